"""Testing aids that ship with the library: hypothesis strategies
(`stakeholder.testing.strategies`) and the storage contract suite
(`stakeholder.testing.contract`). Both need the `testing` extra (hypothesis)."""
