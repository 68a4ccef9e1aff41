"""Benchmark runs: one model × one task type × one structure set, and their reports.

``services`` creates a run and its tasks; ``collect`` turns a run's tasks into plain records;
``report`` computes the per-structure table and the summary metrics from those records (pure, no
Django); ``svg`` draws the parity plots and the histogram; ``views``/``urls`` are the pages.
"""
