"""The key and obligations (Art. 66, Annex I; rules sections 2-4), hand-computed."""

from __future__ import annotations

import pytest
from conftest import pledge, state

from models.instance import Rounding
from planner.inputs.load import load_instance
from planner.optimise.key import compute_key, round_obligations

pytestmark = pytest.mark.unit

# Shares by construction: A 0.4, B 0.2, C 0.2, D 0.2 (D benefitting).
STATES = [state("AA", 2_000_000, 20_000), state("BB"), state("CC"),
          state("DD", benefitting="true", status="pressure")]


def key_of(make_instance, states=STATES, **kw):
    first = str(states[0]["code"])
    folder = make_instance(states, [pledge("p1", first, "financial", 0, 1)], **kw)
    return compute_key(load_instance(folder))


def test_shares_over_participants_benefitting_in_denominator(make_instance):
    key = key_of(make_instance)
    assert {c: round(k.share, 12) for c, k in key.items()} == {
        "AA": 0.4, "BB": 0.2, "CC": 0.2, "DD": 0.2}
    assert {c: k.obligation for c, k in key.items()} == {"AA": 40, "BB": 20, "CC": 20, "DD": 0}
    assert key["DD"].role == "benefitting"


def test_non_participant_has_no_share_and_is_not_in_denominator(make_instance):
    states = STATES + [state("XX", 50_000_000, 900_000, participates="false")]
    key = key_of(make_instance, states)
    assert key["XX"].share == 0 and key["XX"].obligation == 0
    assert key["AA"].obligation == 40


def test_official_share_overrides_and_ceil_gives_4555(make_instance):
    states = [state("DE", share="0.216890"), state("FR"), state("IT", benefitting="true")]
    key = key_of(make_instance, states, relocations=21000, financial=420_000_000)
    assert key["DE"].share == 0.21689
    assert key["DE"].share_official == 0.21689
    assert key["DE"].share_computed == pytest.approx(1 / 3)
    assert key["DE"].obligation == 4555  # 21.6890 % of 21,000 = 4,554.69, rounded up


def test_ceil_does_not_round_exact_integers_up():
    assert round_obligations({"AA": 0.2 * 21000, "BB": 4554.69}, Rounding.ceil) == {
        "AA": 4200, "BB": 4555}


def test_largest_remainder_sums_exactly(make_instance):
    states = [state("AA"), state("BB"), state("CC")]
    key = key_of(make_instance, states, rounding="largest_remainder")
    # 33.33 each: one extra person to reach 100, to the first code on a tie.
    assert [key[c].obligation for c in ("AA", "BB", "CC")] == [34, 33, 33]
    assert sum(k.obligation for k in key.values()) == 100
    ceil = key_of(make_instance, states, name="ceil")
    assert [ceil[c].obligation for c in ("AA", "BB", "CC")] == [34, 34, 34]


def test_largest_remainder_hamilton():
    exact = {"AA": 10.6, "BB": 20.3, "CC": 30.1, "DD": 9.0}
    assert round_obligations(exact, Rounding.largest_remainder) == {
        "AA": 11, "BB": 20, "CC": 30, "DD": 9}


def test_rounding_none_keeps_fractions(make_instance):
    states = [state("AA"), state("BB"), state("CC")]
    key = key_of(make_instance, states, rounding="none")
    assert key["AA"].obligation == pytest.approx(100 / 3)


def test_deduction_reduces_obligation(make_instance):
    states = [STATES[0], state("BB", deduction="0.5", status="significant"), *STATES[2:]]
    key = key_of(make_instance, states)
    assert key["BB"].obligation == 10  # 0.2 * 100 * (1 - 0.5)
    assert key["AA"].obligation == 40  # not redistributed by default


def test_deduction_redistributed_when_asked(make_instance):
    states = [STATES[0], state("BB", deduction="0.5", status="significant"), *STATES[2:]]
    key = key_of(make_instance, states, extra_toml="[deductions]\nredistribute = true\n")
    # 10 deducted, spread over 0.4 : 0.1 : 0.2 -> A 45.71, B 11.43, C 22.86, rounded up
    assert [key[c].obligation for c in ("AA", "BB", "CC")] == [46, 12, 23]


def test_full_deduction_is_zero(make_instance):
    states = [STATES[0], state("BB", deduction="1", status="significant"), *STATES[2:]]
    assert key_of(make_instance, states)["BB"].obligation == 0


def test_key_redistribute_renormalises_over_contributors(make_instance):
    key = key_of(make_instance, extra_toml="[key]\nredistribute = true\n")
    assert [key[c].obligation for c in ("AA", "BB", "CC")] == [50, 25, 25]


def test_custom_weights_over_named_columns(make_instance):
    states = [state("AA", asylum=300), state("BB", asylum=100), state("CC", asylum=0)]
    key = key_of(make_instance, states,
                 extra_toml="[key]\nweights = { population = 0.5, asylum = 0.5 }\n")
    # population equal (1/3 each); asylum 0.75 / 0.25 / 0
    assert key["AA"].share == pytest.approx(0.5 / 3 + 0.375)
    assert [key[c].obligation for c in ("AA", "BB", "CC")] == [55, 30, 17]


def test_largest_remainder_breaks_a_decimal_tie_by_code() -> None:
    """36.2 + 25.4 + 8.4 = 70: floors 36, 25, 8 leave one seat; BB's and CC's remainders are
    both .4 (in decimals; in binary 25.4 - 25 < 8.4 - 8), so the tie goes to BB, the lower
    code."""
    assert round_obligations({"AA": 36.2, "BB": 25.4, "CC": 8.4},
                             Rounding.largest_remainder) == {"AA": 36.0, "BB": 26.0, "CC": 8.0}
