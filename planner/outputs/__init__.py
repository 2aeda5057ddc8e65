"""The planner's own files: CSV tables in fixed formats and their atomic publication (`export`),
where a run may write (`outdir`), and the same tables as xlsx, json and parquet (`formats`)."""
