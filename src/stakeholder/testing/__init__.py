"""Testing aids that ship with the library: hypothesis strategies
(`stakeholder.testing.strategies`), the values they draw (`World`, `Expectation`,
`Book`: importable without hypothesis) and the storage contract suite
(`stakeholder.testing.contract`). The strategies and the suite need the `testing`
extra (hypothesis)."""

from stakeholder.testing._values import Book, Expectation, SharedInput, World

__all__ = ["Book", "Expectation", "SharedInput", "World"]
