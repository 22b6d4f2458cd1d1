"""Benchmarks: ``python -m bench`` runs every ``bench_*`` module's ``main()``."""
