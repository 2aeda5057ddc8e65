"""The planner's own files: each declared once (`registry`: name, row model, stage, personal),
written and read back through their row models (`fileio`), written for a run and published
atomically (`export`), where a run may write (`outdir`), and the same tables as xlsx, json and
parquet (`formats`)."""
