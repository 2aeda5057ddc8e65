"""The independent verifier: re-reads a run's written tables and re-checks every rule, sharing
no code with planner.optimise (`verify` the files and totals, `rules` the re-derivations and
certificates, `summary` summary.json, `matching` and `matchability` the candidates' tables from
the raw candidates.csv)."""
