"""Date shifting, fakes, codebook and operators (no detection involved)."""

from __future__ import annotations

from datetime import date

import pytest

from streamproc.deid.transform.codebook import Codebook
from streamproc.deid.transform.dateshift import shift_text
from streamproc.deid.transform.fakes import NamePool, format_preserving
from streamproc.deid.transform.operators.base import OperatorContext
from streamproc.deid.transform.operators.factory import build_operators
from streamproc.deid.types import PhiSpan
from streamproc.state import MemoryStore


@pytest.mark.parametrize(
    "original, days, expected",
    [
        ("5/13", 10, "5/23"),
        ("5/13", -13, "4/30"),
        ("8/23/2001", 10, "9/2/2001"),
        ("08/23/01", 10, "09/02/01"),
        ("2001-08-23", 10, "2001-09-02"),
        ("1987-11-19", 292, "1988-09-06"),
        ("Aug 23 2001", 10, "Sep 2 2001"),
        ("Aug. 23", 10, "Sep. 2"),
        ("AUGUST 23RD", 10, "SEPTEMBER 2ND"),
        ("23-Aug-01", 10, "2-Sep-01"),
        ("the 3rd of May", 30, "the 2nd of June"),
        ("12/25/1999", 7, "1/1/2000"),
        ("6/85", 30, "7/85"),
        ("2/29", 1, "3/1"),
        ("8/25-8/26", 1, "8/26-8/27"),
    ],
)
def test_shift_keeps_format(original: str, days: int, expected: str) -> None:
    assert shift_text(original, days) == expected


def test_shift_preserves_intervals() -> None:
    a, b = "3/1/2001", "4/15/2001"
    for offset in (-300, -1, 5, 200):
        sa, sb = shift_text(a, offset), shift_text(b, offset)
        assert sa is not None and sb is not None
        da = date(*map(int, (sa.split("/")[2], sa.split("/")[0], sa.split("/")[1])))
        db = date(*map(int, (sb.split("/")[2], sb.split("/")[0], sb.split("/")[1])))
        assert (db - da).days == 45


def test_a_date_without_its_year_shifts_in_the_notes_year() -> None:
    """Pediatric note (round 55), written 03/02/2025: "On 03/01 developed fever" had shifted in
    a leap year, to the same day as the note's own date ("11/12", beside "11/12/2024")."""
    written = date(2025, 3, 2)
    assert shift_text("03/02/2025", -110, written) == "11/12/2024"
    assert shift_text("03/01", -110, written) == "11/11"
    assert shift_text("March 1", -110, written) == "November 11"
    # a date well after the note's is last year's ("12/28" in a March note)
    assert shift_text("12/28", -110, written) == "9/9"
    # with no note date, a fixed leap year keeps Feb 29 a date
    assert shift_text("02/29", -10) == "02/19"


def test_unknown_date_text() -> None:
    assert shift_text("sometime", 3) is None


def test_a_span_listing_several_dates_is_shifted_date_by_date() -> None:
    """Uveitis note (round 39): "prior episodes ... (2021, 2023)" became "([DATE])"."""
    from streamproc.deid.transform.operators.surrogate import _shift_each

    assert _shift_each("2021, 2023", 400) == "2022, 2024"
    assert _shift_each("2019 and 03/04/2022", 30) == "2019 and 04/03/2022"
    assert _shift_each("2021, tomorrow", 30) is None  # every piece must be a date
    assert _shift_each("2021", 30) is None  # one date is shift_text's


def test_format_preserving_is_deterministic() -> None:
    d = b"k" * 32
    fake = format_preserving("617-555-1234", d)
    assert fake == format_preserving("617-555-1234", d)
    assert fake != "617-555-1234"
    assert [c.isdigit() for c in fake] == [c.isdigit() for c in "617-555-1234"]
    assert fake[3] == "-" and fake[7] == "-"


def test_name_pool_keeps_initials_and_case() -> None:
    pool = NamePool.from_faker()
    d = b"x" * 32
    assert len(pool.fake_token("J.", d, False)) == 2 and pool.fake_token("J.", d, False).endswith(
        "."
    )
    assert pool.fake_token("SMITH", d, False).isupper()
    assert pool.fake_token("smith", d, False).islower()
    assert pool.fake_token("Smith", d, False).lower() != "smith"


def test_codebook_offsets_are_stored_under_hmac_keys() -> None:
    store = MemoryStore()
    cb = Codebook(store, "s3cret", date_shift_max_days=30)
    off = cb.date_offset(cb.hkey("patient", "PAT-0042"))
    assert off != 0 and -30 <= off <= 30
    assert (
        Codebook(store, "s3cret", date_shift_max_days=30).date_offset(
            cb.hkey("patient", "PAT-0042")
        )
        == off
    )
    assert all("PAT-0042" not in k for k in store.keys())  # noqa: SIM118
    assert all(k.startswith("deid:shift:") for k in store.keys())  # noqa: SIM118


def test_date_offsets_are_keyed_not_random() -> None:
    """Same secret and patient: same offset with an empty store (reproducible runs); another
    secret draws others; never 0, always within the bound."""
    patients = [f"patient-{i}" for i in range(200)]
    first = [
        Codebook(MemoryStore(), "s3cret", date_shift_max_days=5).date_offset(p) for p in patients
    ]
    again = [
        Codebook(MemoryStore(), "s3cret", date_shift_max_days=5).date_offset(p) for p in patients
    ]
    other = [
        Codebook(MemoryStore(), "0ther", date_shift_max_days=5).date_offset(p) for p in patients
    ]
    assert first == again
    assert first != other
    assert set(first) == {-5, -4, -3, -2, -1, 1, 2, 3, 4, 5}  # every value drawn, no zero
    # an offset already stored (e.g. an earlier random draw) wins over the keyed draw
    store = MemoryStore()
    cb = Codebook(store, "s3cret", date_shift_max_days=5)
    store.set(cb.store_key("shift", "patient-0"), "-3" if first[0] != -3 else "4")
    assert Codebook(store, "s3cret", date_shift_max_days=5).date_offset("patient-0") != first[0]


def test_codebook_reverse_needs_reversible_mode() -> None:
    store = MemoryStore()
    cb = Codebook(store, "s3cret")
    fake = cb.surrogate("ID", "", "A-778899", lambda d: format_preserving("A-778899", d))
    with pytest.raises(PermissionError):
        cb.reverse("ID", fake)
    assert not any("A-778899" in v for v in (store.get(k) or "" for k in store.keys()))  # noqa: SIM118
    rev = Codebook(MemoryStore(), "s3cret", reversible=True)
    fake2 = rev.surrogate("ID", "", "A-778899", lambda d: format_preserving("A-778899", d))
    assert rev.reverse("ID", fake2) == "A-778899"
    assert Codebook(rev.store, "other-secret", reversible=True).reverse("ID", fake2) is None


def test_operators_by_name() -> None:
    default, per_type = build_operators({"DATE": "redact", "PHONE": "mask"})
    ctx = OperatorContext(Codebook(MemoryStore(), "k"), "pk", NamePool.from_faker(), frozenset())
    assert per_type["DATE"].operate("5/13", PhiSpan(0, 4, "DATE"), ctx) == "[DATE]"
    assert per_type["PHONE"].operate("617-555-1234", PhiSpan(0, 12, "PHONE"), ctx) == "***-***-****"
    assert default.operate("93", PhiSpan(0, 2, "AGE"), ctx) == "90+"
    with pytest.raises(ValueError):
        build_operators({"NAME": "shred"})


def test_a_dwellings_number_alone_keeps_its_shape() -> None:
    """ "apt 214" (round 59) had become a whole street address beside the building's name."""
    import re

    default, _ = build_operators({})
    ctx = OperatorContext(Codebook(MemoryStore(), "k"), "pk", NamePool.from_faker(), frozenset())
    fake = default.operate("apt 214", PhiSpan(0, 7, "ADDRESS"), ctx)
    assert re.fullmatch(r"apt \d{1,3}", fake) and fake != "apt 214"
    assert default.operate("apt 214", PhiSpan(0, 7, "ADDRESS"), ctx) == fake  # consistent
    street = default.operate("42 Elm Street", PhiSpan(0, 13, "ADDRESS"), ctx)
    assert re.fullmatch(r"\d+ \w+ \w+", street)
