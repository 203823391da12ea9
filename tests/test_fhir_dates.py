"""FHIR dateTime rules: a time needs an offset, so naive HL7 times become dates, not guesses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from streamproc.fhir import ConditionBuilder
from streamproc.fhir.common import iso
from tests.test_fhir_condition import analysis, entity, note


def test_iso_keeps_time_only_with_an_offset() -> None:
    assert iso(None) is None
    assert iso(datetime(2024, 3, 1, 8, 30)) == "2024-03-01"
    assert iso(datetime(2024, 3, 1, 8, 30, tzinfo=UTC)) == "2024-03-01T08:30:00+00:00"
    east = timezone(timedelta(hours=5))
    assert iso(datetime(2024, 3, 1, 8, 30, tzinfo=east)) == "2024-03-01T08:30:00+05:00"
    assert iso(date(2024, 3, 1)) == "2024-03-01"


def test_condition_from_a_note_with_a_naive_authored_time_is_valid() -> None:
    naive = note().model_copy(update={"authored": datetime(2024, 3, 1, 8, 30)})
    out = ConditionBuilder().build(naive, analysis(entity("CHF", "present")))
    assert out, "a present, coded problem must become a Condition"
    assert out[0].value["recordedDate"] == "2024-03-01"
