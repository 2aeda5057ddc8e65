"""Scenario sweeps (`planner sweep`, issue 16): many scenarios of the year, drawn from
`[uncertainty]`, each planned in memory through planner.pipeline, on Dask distributed or in
this process; one row of indicators per scenario, their distributions per variant. A layer on
top of the pipeline: scenario (the draws), indicators (a plan's row), engine (batches as Dask
tasks), files (chunks, resume, outputs), stats (sweep.csv), page (sweep.html), run (the whole).
"""
