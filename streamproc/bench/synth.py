"""Synthetic raw messages for benchmarks: HL7 v2 MDM^T02 / ORU^R01 and FHIR DocumentReference,
with fake identifiers (names, MRNs, phones, dates) so de-identification has work to do.
Deterministic for a given seed; no corpus needed."""

from __future__ import annotations

import base64
import json
import random

FIRST = ["John", "Maria", "Wei", "Aisha", "Pedro", "Olga", "Samuel", "Fatima", "Kenji", "Laura"]
LAST = ["Smith", "Garcia", "Chen", "Okafor", "Silva", "Ivanova", "Cohen", "Haddad", "Sato", "Moore"]
PROBLEMS = [
    "community-acquired pneumonia",
    "type 2 diabetes mellitus",
    "congestive heart failure",
    "atrial fibrillation",
    "acute kidney injury",
    "chronic obstructive pulmonary disease",
    "essential hypertension",
    "urinary tract infection",
]
DRUGS = [
    ("lisinopril", "a dry cough"),
    ("amoxicillin", "a diffuse rash"),
    ("metformin", "diarrhea"),
    ("warfarin", "gum bleeding"),
    ("atorvastatin", "myalgia"),
    ("vancomycin", "red man syndrome"),
]
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview"]


def note_text(rng: random.Random, target_chars: int = 900) -> str:
    """A discharge-summary-like note with PHI the de-identifier should replace."""
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    mrn = rng.randint(1_000_000, 9_999_999)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    phone = f"({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)}"
    problem, other = rng.sample(PROBLEMS, 2)
    drug, effect = rng.choice(DRUGS)
    parts = [
        f"DISCHARGE SUMMARY\nPatient: {name}  MRN: {mrn}\n"
        f"Admission date: {month:02d}/{day:02d}/2023\n",
        f"HISTORY OF PRESENT ILLNESS:\nMr./Ms. {name.split()[1]} is a {rng.randint(25, 90)}-year-old "
        f"from {rng.choice(CITIES)} admitted with {problem}. History of {other}. "
        "Denies chest pain. No fever at home.\n",
        f"HOSPITAL COURSE:\nTreated for {problem}. Started on {drug}; developed {effect} "
        f"on day {rng.randint(2, 5)}, so {drug} was stopped. Family history of {other} in mother.\n",
        f"FOLLOW-UP:\nCall Dr. {rng.choice(LAST)} at {phone} in two weeks.\n",
    ]
    text = "".join(parts)
    while len(text) < target_chars:
        text += (
            f"Assessment: {rng.choice(PROBLEMS)}, stable. "
            f"Possible {rng.choice(PROBLEMS)} was ruled out. Continue current medications.\n"
        )
    return text


def hl7_escape(text: str) -> str:
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\n", "\\.br\\")
    )


def hl7_mdm(i: int, text: str, rng: random.Random) -> bytes:
    txa = ["TXA", "1", "DS", "TX", "20230301120000"] + [""] * 7 + [f"BENCH{i:07d}"]
    txa += [""] * 4 + ["AU"]
    segments = [
        f"MSH|^~\\&|EHR|BENCH|STREAMPROC|BENCH|20230301120000||MDM^T02|B{i:07d}|P|2.5",
        "EVN|T02|20230301120000",
        f"PID|1||{rng.randint(10**6, 10**7)}^^^BENCH^MR||{rng.choice(LAST)}^{rng.choice(FIRST)}"
        "||19600101|U",
        f"PV1|1|I|W{i % 9}^{i % 40}^1",
        "|".join(txa),
        f"OBX|1|TX|18842-5^Discharge summary^LN||{hl7_escape(text)}||||||F",
    ]
    return ("\r".join(segments) + "\r").encode("utf-8")


def fhir_document_reference(i: int, text: str) -> bytes:
    doc = {
        "resourceType": "DocumentReference",
        "id": f"bench-{i}",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5"}]},
        "subject": {"reference": f"Patient/bench-{i % 97}"},
        "date": "2023-03-01T12:00:00Z",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                }
            }
        ],
    }
    return json.dumps(doc).encode("utf-8")


def synthetic_messages(n: int, seed: int = 13, target_chars: int = 900) -> list[bytes]:
    """``n`` raw messages, alternating HL7 MDM and FHIR DocumentReference."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = note_text(rng, target_chars)
        out.append(hl7_mdm(i, text, rng) if i % 2 == 0 else fhir_document_reference(i, text))
    return out
