"""Each recognizer on positive and negative examples (synthetic PHI only), plus the analyzer."""

from __future__ import annotations

import pytest

from streamproc.deid.detect.analyzer import Analyzer, merge_spans
from streamproc.deid.detect.lexicons import Lexicons, load_lexicons
from streamproc.deid.detect.recognizers.address import AddressRecognizer, ZipRecognizer
from streamproc.deid.detect.recognizers.age import AgeRecognizer
from streamproc.deid.detect.recognizers.date import DateRecognizer
from streamproc.deid.detect.recognizers.email import EmailRecognizer
from streamproc.deid.detect.recognizers.identifier import IdentifierRecognizer
from streamproc.deid.detect.recognizers.ip import IpRecognizer
from streamproc.deid.detect.recognizers.location import LocationRecognizer
from streamproc.deid.detect.recognizers.name import NameRecognizer
from streamproc.deid.detect.recognizers.phone import PhoneRecognizer
from streamproc.deid.detect.recognizers.ssn import SsnRecognizer
from streamproc.deid.detect.recognizers.url import UrlRecognizer
from streamproc.deid.detect.registry import RECOGNIZERS, build_recognizers, read_config
from streamproc.deid.types import PhiSpan


@pytest.fixture(scope="module")
def lex() -> Lexicons:
    return load_lexicons()


def found(recognizer, text: str, threshold: float = 0.5) -> set[str]:  # noqa: ANN001
    return {text[s.start : s.end] for s in recognizer.analyze(text) if s.score >= threshold}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("CAD with NQWMI 5/13, HTN", "5/13"),
        ("admitted 8/23/2001 with SOB", "8/23/2001"),
        ("seen 08-23-01 in clinic", "08-23-01"),
        ("ISO stamp 2001-08-23 here", "2001-08-23"),
        ("on Aug 23 2001 she fell", "Aug 23 2001"),
        ("on August 23rd, 2001", "August 23rd, 2001"),
        ("dated 23-Aug-01", "23-Aug-01"),
        ("surgery on the 3rd of May", "the 3rd of May"),
        ("stated it was July 29th.", "July 29th"),
        ("PMH: MI in 1957, CABG", "1957"),
        ("CABG 1988 at OSH", "1988"),
        ("prostate CA '88, GERD", "88"),
        ("hip fx 6/85 treated", "6/85"),
        ("PRESENT HX:8/30 LETHARGIC", "8/30"),
        ("ceftaz rec'd 8/2 - 8/10 then levo", "8/10"),
    ],
)
def test_date_positive(text: str, expected: str) -> None:
    assert expected in found(DateRecognizer(), text)


@pytest.mark.parametrize(
    "text",
    [
        "BP 128/30 HR 80",
        "pain 5/10 with movement",
        "on CPAP/PS 10/5 40%",
        "murmur 2/6 at apex",
        "PULLED AT 1600 BY HO",
        "received 1000 units",
        "strength 5/5 bilat",
        "IABP 1:1 then 1:2",
        "drips at 1/2 NS",
        "temple and cheek area 3-4/10 received tylenol",
    ],
)
def test_date_negative(text: str) -> None:
    assert found(DateRecognizer(), text) == set()


def test_an_ordinal_that_counts_a_thing_is_no_day() -> None:
    """Round 43: "enhancement of the 1st metatarsal head" was shifted like a day of the month,
    to "the 7th metatarsal head" - a surrogate that changed the finding."""
    r = DateRecognizer()
    assert found(r, "enhancement of the 1st metatarsal head and the 2nd toe") == set()
    assert found(r, "abscess of the 1st MTP joint, in the 3rd trimester") == set()
    assert found(r, "seen on the 3rd, discharged by the 15th.") == {"3rd", "15th"}
    # round 52: the first of coordinated ordinals ("2nd and 3rd MCPs" became "14th and 3rd")
    assert found(r, "Mild synovitis of the 2nd and 3rd MCPs bilaterally.") == set()
    assert found(r, "swelling of the 2nd-4th toes") == set()
    assert found(r, "seen on the 2nd and 3rd of May") == {"2nd", "3rd of May"}
    # round 54: a day written like a ratio, after a word that dates it ("Since 12/12 fever"
    # had stayed in clear)
    assert found(r, "Events: Since 12/12 fever to 38.9.") == {"12/12"}
    assert found(r, "MAE 12/12 reps, 5/5 strength") == set()
    assert found(r, "PT. EXTUBATED FROM 5/5 PSV/CPAP ONTO 40% CPM") == set()
    # round 56: a color-plate test's score ("Ishihara 3/14 both eyes" had become "11/3")
    assert found(r, "Ishihara 3/14 both eyes") == set()


def test_tests_and_scale_scores_shaped_like_dates() -> None:
    """Rounds 45-46: "SD-OCT" and "Repeat OCT" became "NOV", "10-2 fields" "11-14", Vanderbilt
    scores "4/9 ... 8/9" were shifted; "(last dose 11/21)" is a date a dose was given."""
    r = DateRecognizer()
    assert found(r, "SD-OCT: parafoveal loss. Repeat OCT and 10-2 fields.") == set()
    assert {"Oct 12", "OCT 2023"} <= found(r, "seen Oct 12 and in OCT 2023")
    # round 58: the test in capitals before its own numeric date ("last OCT 09/2025 normal" had
    # become "last [DATE] normal"): the date alone
    assert found(r, "annual retinal screening (last OCT 09/2025 normal)") == {"09/2025"}
    assert "OCT 12, 2025" in found(r, "seen OCT 12, 2025")
    assert (
        found(r, "Vanderbilt: inattentive 4/9, hyperactive 3/9 (improved from 8/9 and 7/9)")
        == set()
    )
    assert found(r, "haloperidol IM BID (last dose 11/21); give dose 1/2 tab") == {"11/21"}
    # round 47: a month ending its sentence is no date with the next line's list number
    dates = found(r, "annual mammogram; due in January.\n7. Endometrial hyperplasia")
    assert {d.rstrip(".") for d in dates} == {"January"}


def test_date_times_opt_in() -> None:
    assert found(DateRecognizer(), "seen at 14:30 today") == set()
    assert "14:30" in found(DateRecognizer(include_times=True), "seen at 14:30 today")


def test_age_over_89_only() -> None:
    assert found(AgeRecognizer(), "93 yo woman, age 101") == {"93", "101"}
    assert found(AgeRecognizer(), "74 YO WOMAN, aged 89") == set()


def test_phone() -> None:
    r = PhoneRecognizer()
    assert {"(617) 555-1234", "617-555-9876", "12345"} <= found(
        r, "call (617) 555-1234 or 617-555-9876, Pager #12345"
    )
    assert found(r, "TV 500-1000, RR 9-20, CO 4.6-5.2") == set()
    # out-of-plan area codes and spaced groups are still someone's number
    assert {"135-442-9738", "212- 476- 8356"} <= found(
        r, "CAROLE (135-442-9738), dtr 212- 476- 8356."
    )


def test_email_url_ip_ssn() -> None:
    assert found(EmailRecognizer(), "mail jane.doe@example.com now") == {"jane.doe@example.com"}
    assert found(EmailRecognizer(), "no at sign here") == set()
    assert "https://portal.example.org/x?id=3" in found(
        UrlRecognizer(), "see https://portal.example.org/x?id=3 ok"
    )
    assert found(IpRecognizer(), "from 192.168.10.77 at") == {"192.168.10.77"}
    assert found(IpRecognizer(), "ABG 7.45.34.300 odd") == set()
    assert found(SsnRecognizer(), "SSN 123-45-6789") == {"123-45-6789"}
    assert found(SsnRecognizer(), "number 000-12-3456") == set()


def test_identifier_context() -> None:
    r = IdentifierRecognizer()
    assert "4455667" in found(r, "MRN: 4455667")
    assert "A12-9987" in found(r, "acct # A12-9987")
    assert "90817263" in found(r, "scanned 90817263 today")
    assert found(r, "MRN pending, acct ok, #8 ET tube") == set()
    # round 51: a public-health clinic's chart number, a lab's accession
    assert found(r, "Client: B. Q.   Chart # TB-20931") == {"TB-20931"}
    assert found(r, "accession S24-118832") == {"S24-118832"}
    assert found(r, "in case 2 doses are missed") == set()
    assert found(r, "poison center (case 25-118733) consulted") == {"25-118733"}


def test_address_and_zip() -> None:
    assert "12 Oak Street" in found(AddressRecognizer(), "lives at 12 Oak Street, Springfield")
    assert "02115" in found(ZipRecognizer(), "Boston, MA 02115")
    assert found(ZipRecognizer(), "WBC 12345 cells") == set()
    assert found(AddressRecognizer(), "2 mm ST depression") == set()


def test_names(lex: Lexicons) -> None:
    r = NameRecognizer(lex)
    text = "Dr. Quilling spoke with pt's wife Mary and son, bill. Plan reviewed.\nJean Hudson, RN\n"
    got = found(r, text)
    assert {"Quilling", "Mary", "bill", "Jean", "Hudson"} <= got
    assert "Plan" not in got and "reviewed" not in got
    assert found(r, "DR. POWELL AWARE. NP AWARE.") >= {"POWELL"}
    assert found(r, "Dr aware, MD notified, pt's wife here") == set()
    assert "K. Zabrowski" in found(r, "seen by K. Zabrowski today")
    # Synthea-style generated names (FHIR sample data) carry digits
    assert {"Sumiko254", "Larue605"} <= found(r, "Sumiko254 Larue605\n is a 60 year-old")
    assert {"Marine542", "Ai120"} <= found(r, "Marine542 Ai120\n is a 62 year-old")
    assert found(r, "Hb12 this am, Mg2 replaced") == set()
    assert found(r, "Covid19 test negative") == set()


def test_names_outside_every_lexicon(lex: Lexicons) -> None:
    r = NameRecognizer(lex)
    # two unknown capitalised words in a row in mixed-case text; a nickname alone
    assert "Radu Crosson" in found(r, "team has spoken with Radu Crosson about goals")
    assert "Rob" in found(r, "only able to reach Rob. will call back")
    assert found(r, "phone call from son Rob-who states he is coming") == {"Rob"}
    assert found(r, "Chest Tube to suction, Swan Ganz out") == set()
    assert found(r, "RADU CROSSON CALLED") == set()  # no case signal in capitals


def test_names_after_context_without_case_or_lexicon(lex: Lexicons) -> None:
    r = NameRecognizer(lex)
    # lower-case, in no lexicon: the relation word or title is the only signal
    assert found(r, "social: dtr quenbelle in contact by phone") == {"quenbelle"}
    assert found(r, "BP 80S. NP VORDAKIS MADE AWARE") == {"VORDAKIS"}
    # ...but not misspellings, English words, acronyms or relation words themselves
    assert found(r, "son visted today, wife famliy mtg") == set()
    assert found(r, "daughter incredibly emotional, son-inlaw in to visit") == set()
    assert found(r, "HUSBAND CEO. SMOKER 30PK/YR") == set()
    assert found(r, "WATCHED VIDEO OF SONS HOCKEY GAME") == set()  # capitals: relation too weak
    assert found(r, "ON 3L NP . FOLEY DC") == set()  # the sentence ended after "NP"
    assert lex.near_common("visted") and not lex.near_common("quenbelle")
    # round 53: what a relative owns ("his late father's barn" had become "schmitt")
    assert found(r, "spent 3 weeks clearing his late father's barn") == set()
    assert found(r, "pt's son bill called") == {"bill"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hank Przybylo (son) cell# 450-928-6612", "Hank Przybylo"),
        ("FAMILY. URSLA MORETTI (DAUGHTER)- SPOKESPERSON", "URSLA MORETTI"),
        ("Lopie Certusi cell# 410-322-1419", "Lopie Certusi"),
        ("resp- Arthur Peppler,MD made no changes", "Arthur Peppler"),
        ("Social: Andrwe O'connell MD spoke with pt's daughter", "Andrwe O'connell"),
        # round 51: a header field ("Mamani" had stayed in clear after "Gregg Mcgee")
        ("Client: Beatriz Quispe Mamani   DOB 07/22/1981", "Beatriz Quispe Mamani"),
        ("PATIENT: QUISPE, BEATRIZ   MRN 1234567", "QUISPE, BEATRIZ"),
        ("Visit 2/6   Patient name: Wilmer Quispe", "Wilmer Quispe"),
    ],
)
def test_names_labelled_after_the_fact(lex: Lexicons, text: str, expected: str) -> None:
    assert expected in found(NameRecognizer(lex), text)


@pytest.mark.parametrize(
    "text",
    [
        "moved from Middle River, MD last year",
        "seen by Cardiology MD today",
        "WILL RETURN TO BED. BREATHING PATTERN REGULAR",
        "lives in California, Phone # 858-492-5403",
        "Patient: Alert and oriented.",
        "Test name: Hemoglobin A1c",
        # a role before a signed name is no name ("Nurse practitioner" became "Nurse daniel")
        "Clinician: Nurse practitioner",
        # a credential, then the next header field ("Accompanied" became "Martin")
        "Psychiatrist: S. I.-B., MD   Accompanied by: the son",
    ],
)
def test_names_labelled_negative(lex: Lexicons, text: str) -> None:
    assert found(NameRecognizer(lex), text) == set()


def test_locations(lex: Lexicons) -> None:
    r = LocationRecognizer(lex)
    got = found(r, "transferred from Union Hospital to Baltimore Rehab; lives in Towson")
    assert {"Union", "Baltimore", "Towson"} <= got
    assert "Hospital" not in " ".join(got)
    assert found(r, "TRANSFERRED FROM VAMC HOSPITAL") == {"VAMC"}
    assert found(r, "went to the hospital, ST depressions") == set()
    # a residence or an employer named by the sentence, in any case
    assert found(r, "social: lives alone in quarry hollow, dtr close by") == {"quarry hollow"}
    assert found(r, "HUSBAND CEO OF ZENTRAVIX. SMOKER") == {"ZENTRAVIX"}
    assert found(r, "He works for Brightmoor Logistics as a driver") == {"Brightmoor Logistics"}
    assert found(r, "lives in a nursing home; works at home; lives in California") == set()
    assert found(r, "Pt lives alone in apartment, works for the city") == set()
    # what a centre treats is no name (round 37: "Cystic Fibrosis Center" became "Pinecrest")
    assert found(r, "Pulmonary Clinic - Cystic Fibrosis Center") == set()
    # a name before such a word is the name recognizer's (a known surname)
    assert found(r, "seen at the Smith Oncology Center") == set()
    # an ordinary word before the suffix is no facility name ("Stroke Center"; an "s" at either
    # end of a word had been stripped before the lookup, so "stroke" was "troke")
    assert found(r, "Arrhythmia Clinic, Stroke Center, Sleep Center, Union Hospital") == {"Union"}
    # round 55: a service's acronym ("OPAT CLINIC NOTE" became "MILLBROOK CLINIC NOTE")
    assert found(r, "INFECTIOUS DISEASES / OPAT CLINIC NOTE") == set()
    assert found(NameRecognizer(lex), "seen at the Smith Oncology Center") == {"Smith"}


def test_note_title_words_are_no_name(lex: Lexicons) -> None:
    """Round 37: the HL7 note's title "Emergency Department / Toxicology Consult" became a
    person ("Taylor Nielsen / Toxicology Consult")."""
    r = NameRecognizer(lex)
    assert found(r, "Emergency Department / Toxicology Consult") == set()
    assert found(r, "Inpatient Consultation, Urgent Summary") == set()
    # round 45: a specialty ends a doctor's list of names ("Rheumatology" had become a name)
    dr = found(r, "Referring: Dr. Susan Pratt, Rheumatology, Valley View Arthritis Center")
    assert not any("Rheumatology" in name or "Valley" in name for name in dr) and "Pratt" in dr
    # round 43: a service's patients ("PEDIATRIC HOSPITAL MEDICINE" had become a place)
    assert found(LocationRecognizer(lex), "PEDIATRIC HOSPITAL MEDICINE - ADMISSION H&P") == set()
    # round 47: an organ and a service ("Kidney transplant" became "Fox transplant")
    assert (
        found(r, "Kidney transplant (deceased donor) 08/02/2024; Kidney transplant status") == set()
    )
    assert found(LocationRecognizer(lex), "TRANSPLANT INFECTIOUS DISEASES CLINIC NOTE") == set()
    assert found(LocationRecognizer(lex), "WOMEN'S HEALTH / MENOPAUSE CLINIC") == set()
    # round 48: a ward is a floor and a side ("4 North" became "4 Bryan")
    assert "North" not in found(r, "Location: 4 North, Lakeshore General Hospital; 5 West")
    assert "North" in found(r, "Seen by Dr. North.")
    # round 50: a diagnosis heading a list item ("2. Vitiligo, immune-related" became a name)
    assert found(r, "2. Vitiligo, immune-related, associated with pembrolizumab.") == set()
    # round 38: race and ethnicity are no Safe Harbor identifier
    assert found(r, "38-year-old African American woman; Native American male") == set()
    assert found(r, "spoken with Radu Crosson about the plan") == {"Radu Crosson"}


def test_registry_is_explicit_and_checked(tmp_path) -> None:  # noqa: ANN001
    config = read_config()
    assert [name for name, _ in config.entries] == list(RECOGNIZERS)
    bad = tmp_path / "r.yaml"
    bad.write_text("recognizers:\n  - name: nope\n")
    with pytest.raises(ValueError, match="unknown recognizer"):
        read_config(bad)


def test_analyzer_merges_overlaps_and_adjacent(lex: Lexicons) -> None:
    text = "Jean Hudson called 617-555-1234"
    spans = [
        PhiSpan(0, 4, "NAME", 0.9),
        PhiSpan(5, 11, "NAME", 0.8),
        PhiSpan(19, 31, "PHONE", 0.9),
        PhiSpan(19, 22, "ID", 0.99),
    ]
    merged = merge_spans(text, spans)
    assert [(text[s.start : s.end], s.entity_type) for s in merged] == [
        ("Jean Hudson", "NAME"),
        ("617-555-1234", "PHONE"),
    ]
    # a place split across types by the model is one phrase; a town after a comma is not
    text = "lives in quarry hollow, Towson"
    spans = [PhiSpan(9, 15, "LOCATION", 0.9), PhiSpan(16, 22, "ADDRESS", 0.8),
             PhiSpan(24, 30, "LOCATION", 0.9)]  # fmt: skip
    assert [(text[s.start : s.end], s.entity_type) for s in merge_spans(text, spans)] == [
        ("quarry hollow", "ADDRESS"),
        ("Towson", "LOCATION"),
    ]
    analyzer = Analyzer(build_recognizers(read_config(), lex), threshold=0.5)
    out = analyzer.analyze("Dr. Quilling saw pt 5/13, call 617-555-1234")
    assert {s.entity_type for s in out} == {"NAME", "DATE", "PHONE"}


def test_a_dwellings_number_and_a_senior_living_facility() -> None:
    """Geriatric consult (round 59): "(Sunrise Senior Living, apt 214)" kept "214" in clear beside
    a surrogate street; the unit is an address of its own, the facility's name a location."""
    from streamproc.deid.detect.lexicons import load_lexicons
    from streamproc.deid.detect.recognizers.address import AddressRecognizer
    from streamproc.deid.detect.recognizers.location import LocationRecognizer

    text = "after a fall at home (Sunrise Senior Living, apt 214); gave 2 units PRBC"
    assert found(AddressRecognizer(), text) == {"apt 214"}
    assert "Sunrise" in found(LocationRecognizer(load_lexicons()), text)
