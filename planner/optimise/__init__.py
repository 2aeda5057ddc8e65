"""From a validated instance to a plan: the key and obligations (`key`), Art. 63 (`offsets`),
the pool plan (`pool_plan`), the balanced distribution (`distribution`), who may take which
place (`eligibility`, `matchability`), the matching (`matching`, `assignments`) and the solution
tables (`tables`), over the solver back-ends and their lexicographic stages (`solve`: frozen
options in, a record out; `highs_stages`: the HiGHS array path, its LP bound and reduced-cost
fixing; `exact`, `tiebreak`). Nothing here reads or writes a file."""
