"""PHI types and the one span dataclass shared by detection and transformation.

Detection and anonymisation only meet through :class:`PhiSpan` (Presidio's data-contract split):
recognizers produce them, the analyzer merges them, operators consume them.
"""

from __future__ import annotations

from dataclasses import dataclass

# A dwelling's number after its building ("Sunrise Senior Living, apt 214"): an ADDRESS the
# recognizers find and the surrogate keeps in shape ("apt 87"); the word before the number is
# the group ``unit_word``.
DWELLING_UNIT = r"(?P<unit_word>(?:apt|apartment|suite|ste)\b\.?[ \t]*#?[ \t]*)\d{1,5}[A-Za-z]?\b"

# Canonical PHI types (Safe Harbor identifiers grouped by how we replace them).
NAME = "NAME"
DATE = "DATE"
AGE = "AGE"
SAFE_HARBOR_MIN_AGE = 90  # ages above 89 are identifiers; younger ones carry clinical meaning
PHONE = "PHONE"
EMAIL = "EMAIL"
URL = "URL"
IP = "IP"
SSN = "SSN"
ID = "ID"  # MRN, account, licence, device, plate, health-plan numbers
ZIP = "ZIP"
ADDRESS = "ADDRESS"
LOCATION = "LOCATION"  # hospitals, institutions, cities, other places

ALL_TYPES: tuple[str, ...] = (
    NAME,
    DATE,
    AGE,
    PHONE,
    EMAIL,
    URL,
    IP,
    SSN,
    ID,
    ZIP,
    ADDRESS,
    LOCATION,
)

# When two detections overlap, the higher priority type wins (ties: higher score, longer span).
TYPE_PRIORITY: dict[str, int] = {
    EMAIL: 100,
    URL: 95,
    IP: 94,
    SSN: 90,
    PHONE: 85,
    DATE: 80,
    AGE: 75,
    ADDRESS: 70,
    ZIP: 65,
    ID: 60,
    NAME: 50,
    LOCATION: 45,
}

# Corpus labels (PhysioNet de-id gold standard, i2b2-style names) -> canonical types.
_CORPUS_LABELS: dict[str, str] = {
    "HCPName": NAME,
    "PTName": NAME,
    "PTNameInitial": NAME,
    "RelativeProxyName": NAME,
    "Date": DATE,
    "DateYear": DATE,
    "Location": LOCATION,
    "Phone": PHONE,
    "Age": AGE,
    "Other": ID,
}


def canonical_type(label: str) -> str:
    """Map a corpus or model label (``B-NAME``, ``HCPName``…) to a canonical PHI type."""
    if label[:2] in ("B-", "I-"):
        label = label[2:]
    if label in _CORPUS_LABELS:
        return _CORPUS_LABELS[label]
    upper = label.upper()
    return upper if upper in TYPE_PRIORITY else ID


@dataclass(frozen=True)
class PhiSpan:
    """One detected identifier: ``text[start:end]`` is PHI of ``entity_type``."""

    start: int
    end: int
    entity_type: str
    score: float = 1.0
    source: str = ""  # recognizer name, for counts and debugging (never the text)

    @property
    def length(self) -> int:
        return self.end - self.start
