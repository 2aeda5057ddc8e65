"""What a reader sees of a verified run: the terminal table (`terminal`), report.html
(`html`, `html_compare`, `charts`), the analyst's warnings (`analyst_warnings`), and text made
safe to show (`display`)."""
