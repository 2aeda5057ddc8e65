"""Read and validate an instance: files -> rows with their lines -> pydantic models -> cross-row
checks, every problem at once (`InputError`, exit 2). `reader` reads files and collects
problems; `numbers` and `safe_text` are the rules of a cell; `checks` the cross-row rules, one
function each; `candidates` reads candidates.csv column-wise into cases; `protection` is the
beneficiaries' rule (Art. 56(2)(a)(ii)); `variants` applies a variant; `load` assembles an
`Instance`; `synthetic` writes plausible candidates for tests and benchmarks."""
