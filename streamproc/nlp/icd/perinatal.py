"""Whether a note is a newborn's record, and the gestational age it states.

ICD-10-CM codes a newborn's problems from chapter 16 (P00-P96: "respiratory distress syndrome"
is P22.0 in a newborn, ARDS J80 in an adult; sepsis P36.9, not A41.9), and chapter 15 codes are
"for use only on the maternal record, never on the record of the newborn" (guideline I.C.15.a.1):
the "preterm labor" a NICU summary names is the mother's. A single mention rarely says whose it
is, so the note decides: several newborn-record cues and none of a mother's record.
"""

from __future__ import annotations

import re

# Each kind counts once: a NICU summary names several ("born at 28 weeks", "Apgars 4 and 7",
# "birth weight 1120 g", "36 weeks PMA"); a child's later note names its birth history at most
# in passing, and states an age in months or years.
_NEWBORN_CUES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bNICU\b|\bnewborn nursery\b|\bspecial care (?:baby unit|nursery)\b|\bwell[- ]baby\b",
        r"\bday of life\b|\bDOL\s*#?\s*\d",
        r"\bapgars?\b",
        r"\bbirth ?weight\b",
        r"\bborn (?:at|by|via)\b|\bgestational age\b|\bweeks'? (?:\d+ days? )?gestation\b",
        r"\bpost-?menstrual age\b|\bPMA\b|\bcorrected (?:gestational )?age\b",
        r"\b(?:baby|infant) (?:boy|girl)\b|\bnewborn\b|\bneonate\b|\btwin [AB]\b",
    )
)
_MIN_NEWBORN_CUES = 3
# A mother's record (a delivery or postpartum note names the baby's Apgars and weight too) or a
# child past the neonatal period ("18-month-old", "2 yo", "4 months old").
_NOT_NEWBORN = re.compile(
    r"\bG\d+\s*P\d|\bgravida\b|\b(?:primi|multi)gravid|\bpostpartum day\b|\bPPD\s*#?\s*\d"
    r"|\blochia\b|\bfund(?:us|al height)\b|\bEBL\b|\bestimated blood loss\b|\bLMP\b"
    r"|\bepisiotomy\b|\bperineal (?:laceration|tear)|\bher (?:baby|infant|newborn|son|daughter)\b"
    r"|\b\d+[- ](?:years?|yrs?|months?|mos?)[- ]old\b|\b\d+\s*(?:yo|y/o|y\.o\.)\b",
    re.IGNORECASE,
)
# "born at 28 weeks 3 days", "28 3/7 weeks", "28+3 weeks", "GA 28 weeks", "a 28-week infant"
_GESTATIONAL_AGE = re.compile(
    r"\b(?:born at|GA(?: of)?|gestational age(?: of)?(?: at birth)?:?)\s*(\d{2})\b"
    r"|\b(\d{2})(?:\s*\+\s*\d|\s+\d/7)?[- ](?:completed )?weeks?'?(?:,? \d days?)? (?:gestation|GA)\b"
    r"|\b(\d{2})[- ]week(?:er)?\b(?= (?:preterm|premature|infant|baby|boy|girl|twin|neonate))",
    re.IGNORECASE,
)


def newborn_record(text: str) -> bool:
    """Whether ``text`` reads as a newborn's own record (a NICU or nursery note)."""
    if _NOT_NEWBORN.search(text):
        return False
    return sum(1 for cue in _NEWBORN_CUES if cue.search(text)) >= _MIN_NEWBORN_CUES


def gestational_weeks(text: str) -> int | None:
    """The completed weeks of gestation at birth a newborn's note states first, if any."""
    for match in _GESTATIONAL_AGE.finditer(text):
        weeks = int(next(group for group in match.groups() if group))
        if 20 <= weeks <= 44:
            return weeks
    return None


def preterm_code(weeks: int) -> str | None:
    """P07.2- (extreme immaturity, under 28 completed weeks) or P07.3- (28 to 36 weeks) for the
    gestational age; None at term."""
    if weeks < 23:
        return "P07.21"
    if weeks < 28:
        return f"P07.2{weeks - 21}"
    if weeks <= 36:
        return f"P07.3{weeks - 27}"
    return None


# the mother's gestational age now: "G2P1 at 31w4d", "at 31 weeks", "31 weeks gestation", "EGA 28"
_PREGNANCY_WEEKS = re.compile(
    r"\b(\d{1,2})\s*w\s*\d\s*d\b"
    r"|\b(?:E?GA|gestational age)(?: of)?:?\s*(\d{1,2})\b"
    r"|\bat\s+(\d{1,2})(?:\s*\+\s*\d|\s+\d/7)?\s*(?:weeks?|wks?)\b"
    r"|\b(\d{1,2})(?:\s*\+\s*\d|\s+\d/7)?[- ]weeks?'?(?:,? \d days?)? (?:gestation|pregnant)\b",
    re.IGNORECASE,
)


def pregnancy_trimester(text: str) -> int | None:
    """The trimester (1, 2 or 3) of the gestational age a pregnant patient's note states first:
    under 14 weeks the first, under 28 the second, else the third (the ICD-10-CM chapter 15
    definitions); None where no gestational age is written."""
    for match in _PREGNANCY_WEEKS.finditer(text):
        weeks = int(next(group for group in match.groups() if group))
        if 4 <= weeks <= 43:
            return 1 if weeks < 14 else 2 if weeks < 28 else 3
    return None
