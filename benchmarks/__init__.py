"""Benchmarks: workloads and the baselines they are compared with in the same run.

Run one with `make bench ARGS="NAME [--scale N]"` or `python -m benchmarks NAME`;
`python -m benchmarks` lists them. Results are recorded in docs/performance.md.
"""
