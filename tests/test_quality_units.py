"""The placement quality stage in whole units (planner.optimise.matching.quality_unit): scores
are sums of the quality weights and preference / rank, stored rounded to 9 decimals; as exact
fractions they share a small denominator, so the stage's objective is integral. And the
states where a case may score at all (`scoring_states`)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.cases import Case
from models.instance import QualityWeights
from planner.optimise.eligibility import official_languages, quality
from planner.optimise.matching import exact, quality_unit, scoring_states

pytestmark = pytest.mark.unit


def test_the_default_weights_with_three_preferences_give_sixths():
    # 8 + 1/2, 2 + 1/3 (rounded as the scorer stores them), 1, 4: denominators 2, 3, 1, 1.
    scores = [round(8 + 1 / 2, 9), round(2 + 1 / 3, 9), 1.0, 4.0]
    assert quality_unit(scores) == 6
    assert exact(round(2 + 1 / 3, 9)) == Fraction(7, 3)
    assert exact(4.0) == 4


def test_whole_scores_have_unit_one():
    assert quality_unit([0.0, 2.0, 14.0]) == 1


def test_a_score_of_no_small_fraction_leaves_the_costs_as_they_are():
    # A weight of 0.1234567 (a user's choice): no denominator up to SCORE_DENOMINATOR.
    assert quality_unit([1.0, 0.1234567]) == 1
    assert exact(0.1234567) == 0.1234567


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(1, 6)), min_size=1, max_size=8))
def test_every_score_is_a_whole_number_of_units(parts):
    """Scores w + 1/r (weights whole, ranks 1-6) as the scorer stores them: each is a whole
    number of 1/unit, and the unit divides lcm(1..6) = 60."""
    scores = [round(w + 1 / r, 9) for w, r in parts]
    unit = quality_unit(scores)
    assert 60 % unit == 0
    for (w, r), score in zip(parts, scores, strict=True):
        assert exact(score) == w + Fraction(1, r)
        assert (exact(score) * unit).denominator == 1


STATES = sorted(official_languages()) + ["XX"]  # XX: a code without official languages
LANGUAGES = sorted({lang for spoken in official_languages().values() for lang in spoken})


@given(languages=st.frozensets(st.sampled_from([*LANGUAGES, "ar", "ps"]), max_size=4),
       family=st.frozensets(st.sampled_from(STATES), max_size=3),
       other=st.frozensets(st.sampled_from(STATES), max_size=3),
       preferences=st.lists(st.sampled_from(STATES), max_size=4, unique=True),
       weights=st.tuples(*[st.sampled_from([0.0, 0.5, 1.0, 2.0, 8.0])] * 4))
def test_a_case_scores_nothing_outside_its_scoring_states(languages, family, other,
                                                          preferences, weights):
    """matching.scoring_states: the matching asks `quality` only there and takes 0.0
    elsewhere, so elsewhere `quality` must give exactly 0.0 and no reason; there it gives a
    reason (a link, a language or a preference: the states are not too many either)."""
    case = Case("c1", "IT", ("p1",), frozenset(), frozenset(), languages, 0, 0, family, other,
                tuple(preferences), None, None)
    chosen = QualityWeights(family_link=weights[0], other_link=weights[1],
                            language=weights[2], preference=weights[3])
    some = scoring_states()(case)
    for state in STATES:
        score, reasons = quality(case, state, official_languages(), chosen)
        if state not in some:
            assert (score, reasons) == (0.0, ())
        else:
            assert reasons
