"""What each setting and column of the input workbook means, in words (its README sheet and the
settings sheet's `description` column).

The workbook's structure (sheets, columns, types, allowed values, defaults, bounds, number
formats, drop-downs) is derived from the pydantic models (`planner.inputs.workbook`); only the
sentences are written here. tests/test_workbook.py checks that every setting and column of
the models has one and that none is left over.
"""

from __future__ import annotations

SHEETS = {
    "README": "this sheet: what every sheet and column means",
    "settings": "instance.toml as key/value rows (an empty value: the default applies)",
    "member_states": "member_states.csv: key data and status per state, one row per state",
    "pledges": "pledges.csv: what each state offered, one row per offer",
    "needs": "needs.csv (optional; an empty sheet: no needs): needs of the benefitting states",
    "responsibility": "responsibility.csv (optional; an empty sheet: no such file): persons "
                      "on a state's territory a benefitting state is responsible for (Art. 63)",
    "variants": "alternative proposals (optional): rows variant, key, value; the rows of one "
                "variant make it, each as `planner run --set KEY=VALUE` reads it",
}

SETTINGS = {
    "name": "human-readable name, used in reports",
    "cycle": "the year the pool covers",
    "cycle_start": "the cycle's first day when not 1 January (YYYY-MM-DD): the pro-rata clock "
                   "of Art. 60(3) starts there and the ledger's dates may not come before it",
    "pool.relocations": "the pool in persons (Art. 12, Art. 57)",
    "pool.financial_eur": "the pool in EUR",
    "pool.eur_per_relocation": "EUR per relocation-equivalent (empty: financial_eur / "
                               "relocations)",
    "pool.rounding": "how obligations become whole persons: ceil, largest_remainder or none",
    "pool.adopted": "adoption date of the Council implementing act (YYYY-MM-DD; Art. "
                    "56(2)(a)(ii))",
    "proposal.relocations": "the Commission's proposal in persons (Art. 12; empty: the pool's)",
    "proposal.financial_eur": "the Commission's proposal in EUR (empty: the pool's)",
    "key.weights": "the distribution key (Annex I): one row per member_states column, "
                   "key.weights.COLUMN, the weights summing to 1",
    "key.redistribute": "true: shares renormalised over the contributors only",
    "deductions.redistribute": "true: deducted amounts spread over the other contributors "
                               "(Arts 61-62)",
    "offsets.voluntary_share": "Art. 63(1)/(2)(b): voluntary offsets once pledged relocations "
                               "reach this share of the proposal (or of a state's obligation)",
    "offsets.mandatory_share": "Art. 63(3)(a): this share of the relocation needs",
    "offsets.mandatory_proposal_share": "Art. 63(3)(b): this share of the proposal's "
                                        "relocations",
    "offsets.mandatory_basis": "higher (the law), needs (a) or proposal (b)",
    "offsets.enforce_voluntary": "true: offsets not yet allowed are limited to their minimum",
    "offsets.refused_by": "benefitting states that do not agree to voluntary offsets "
                          "(;-list, Art. 63(2))",
    "distribution.sar_share": "indicative share of the pool (in value) for SAR states",
    "distribution.sar_states": "the search-and-rescue states (;-list, e.g. IT;ES)",
    "benefitting.implement_pledges": "true: benefitting states' own pledges are planned",
    "solver.name": "highs or cbc (the other is the fallback)",
    "solver.time_limit_s": "time limit per solver stage, in seconds (empty: none)",
    "solver.fallback": "true: the other solver is tried when the first fails",
    "matching.priority": "order of the priority terms (;-list of minors, vulnerable, waiting)",
    "matching.quality.family_link": "weight per person placed where a family member lives",
    "matching.quality.other_link": "weight per person placed where another link is",
    "matching.quality.language": "weight per person placed with a shared official language",
    "matching.quality.preference": "weight per person placed in a stated preference",
    "matching.waiting_band_days": "days of waiting counted as one band of priority",
    "matching.split": "joint: each relocation row's split decided with the matching; fixed: "
                      "by the distribution alone",
    "relocation.bilateral_agreements": "CONTRIBUTOR-BENEFITTING pairs that agreed to relocate "
                                       "beneficiaries of protection (;-list, e.g. FR-IT;FR-EL)",
    "relocation.protection_max_years": "years of protection within which a beneficiary may be "
                                       "relocated (Art. 56(2)(a)(ii): 3)",
    "relocation.protection_after_adoption": "true: protection granted after the act's "
                                            "adoption counts",
    "tracking.tolerance": "planner track warns beyond this many share points of the planned "
                          "value (0.1 = 10 points; Art. 60(3))",
    "replan.pacing": "planner run --as-of: each contributor's new placements in the coming "
                     "period at most this many times its pro-rata share of what remains (0: "
                     "no cap)",
    "replan.period_days": "planner run --as-of: the coming period the pacing caps, in days",
    "files.candidates": "candidates.csv, the person-level file (a path relative to this "
                        "workbook; empty: no matching). Personal data stays out of the workbook",
    "files.transfers": "transfers.csv (a path relative to this workbook; optional)",
    "files.rejections": "rejections.csv (a path relative to this workbook; optional)",
}

COLUMNS = {
    "member_states": {
        "code": "state code (Eurostat's two letters, EL for Greece), unique",
        "name": "the state's name",
        "population": "persons (the key's population part)",
        "gdp_eur_million": "GDP, EUR million (the key's GDP part)",
        "participates": "part of the key (false for DK and non-EU states)",
        "benefitting": "under pressure and using the pool this cycle",
        "status": "none, at_risk, significant or pressure (Art. 11)",
        "deduction": "granted fraction of the obligation, 0 to 1 (Arts 61-62)",
        "share": "official key share; overrides the computed one (empty: computed)",
    },
    "pledges": {
        "pledge_id": "unique id, used in the outputs",
        "state": "the contributor",
        "measure": "relocation, offset, financial or alternative",
        "min": "the least the state commits to (persons or EUR)",
        "max": "the most it offers (empty: no limit)",
        "beneficiary": "benefitting states this row may go to (;-list; empty: any)",
        "preference": "the state's rank for this row, 1 = most preferred",
        "nationalities": "relocation rows: accepted nationalities (;-list of ISO alpha-3)",
        "statuses": "relocation rows: applicant, beneficiary (;-list)",
        "max_case_size": "relocation rows: largest family unit accepted",
        "vulnerable": "relocation rows: accepts vulnerable persons",
        "unaccompanied_minors": "relocation rows: accepts unaccompanied minors",
    },
    "needs": {
        "state": "the benefitting state",
        "measure": "relocation, offset, financial or alternative",
        "amount": "what it needs (persons or EUR)",
    },
    "responsibility": {
        "state": "the state on whose territory the persons are",
        "benefitting": "the benefitting state responsible for them",
        "persons": "whole persons",
    },
    "variants": {
        "variant": "the variant's name (letters, digits, -, _, .)",
        "key": "a setting (pool.relocations), a cell of member_states "
               "(member_states.PL.deduction) or of pledges (pledges.FR-2.max)",
        "value": "its value in the variant",
    },
}
