"""Benchmarks (``python -m bench``) and the shared system harness (``bench.stack``).

Every benchmark measures a baseline in the same run on the same machine and reports the
ratio plus medians; ``python -m bench`` writes the figures to ``docs/benchmarks.md``.
"""
