"""Schemas of the matching inputs: candidates.csv, transfers.csv, rejections.csv.

`Candidate` documents one row (and generates its JSON Schema); large candidate files are
validated column-wise by `planner.inputs.candidates`, which applies the same rules without
building one object per row (style.md: tables of 10^5+ rows) and groups the rows into
`models.cases.Case`s.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.instance import Bool, CodeList, IsoDate, StateCode, TextList

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Candidate(BaseModel):
    """One person available for relocation; pseudonymous (never a name)."""

    model_config = _STRICT
    person_id: Annotated[str, Field(min_length=1)]
    case_id: Annotated[str, Field(min_length=1)]
    location: StateCode
    status: Literal["applicant", "beneficiary"] = "applicant"
    consent: Bool = False
    security_cleared: Bool = True
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    languages: TextList = ()
    vulnerable: Bool = False
    unaccompanied_minor: Bool = False
    family_links: CodeList = ()
    other_links: CodeList = ()
    preferences: CodeList = ()
    registered: dt.date | None = None
    # Beneficiaries only: the day international protection was granted (Art. 56(2)(a)(ii):
    # relocated only if less than 3 years before the Council act's adoption); an error on an
    # applicant's row.
    protection_granted: dt.date | None = None


class CasePair(BaseModel):
    """A row of transfers.csv (the case went to `state`) or rejections.csv (`state` refused)."""

    model_config = _STRICT
    case_id: Annotated[str, Field(min_length=1)]
    state: StateCode



class Transfer(BaseModel):
    """A row of transfers.csv: the case went to `state`, on `date` when given (issue 15: the
    transfer date, which tracking counts as the day the relocation was implemented; undated
    transfers count as implemented at any date)."""

    model_config = _STRICT
    case_id: Annotated[str, Field(min_length=1)]
    state: StateCode
    date: IsoDate | None = None
