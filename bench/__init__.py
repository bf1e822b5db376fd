"""Benchmarks: ``python -m bench [NAME...]`` (``make bench`` runs the default set).

Each benchmark is a module with ``main(argv: list[str]) -> None`` that prints its figures and
their ratios against a baseline measured in the same process. Record the latest figures in
BENCHMARKS.md with the command that produced them.
"""
