"""Shift a date expression by N days and write it back in the *same* format.

"5/13" stays M/D, "05/13/2001" keeps zero padding and a 4-digit year, "Aug 23" stays "Mon D",
"AUGUST 23RD" stays upper case with an ordinal, a bare year shifts as a mid-year date. Intervals
between dates of one patient are preserved because every date of the patient moves by the same
offset. Dates without a year are shifted inside leap year 2000 (so 2/29 exists).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_MON_RE = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?P<mdot>\.?)"
)
_ORD = r"(?P<ord>st|nd|rd|th)?"
_REF_YEAR = 2000  # a leap year: Feb 29 written without a year shifts as a date

_FORMS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"(?P<y>\d{4})(?P<s>[-/])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})")),
    ("mdy", re.compile(r"(?P<m>\d{1,2})(?P<s>[/-])(?P<d>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})")),
    ("md", re.compile(r"(?P<m>\d{1,2})(?P<s>[/-])(?P<d>\d{1,2})")),
    (
        "mon_d_y",
        re.compile(
            rf"{_MON_RE}(?P<sp1>\s*)(?P<d>\d{{1,2}}){_ORD}(?:(?P<sep>,?\s*)(?P<y>\d{{4}}|'\d{{2}}))?",
            re.I,
        ),
    ),
    (
        "d_mon_y",
        re.compile(
            rf"(?P<the>the\s+)?(?P<d>\d{{1,2}}){_ORD}(?P<of>\s+of\s+|\s+|-|/)(?P<monx>{_MON_RE})(?:(?P<sep>,?[\s/-]*)(?P<y>\d{{4}}|\d{{2}}))?",
            re.I,
        ),
    ),
    ("mon_y", re.compile(rf"{_MON_RE}(?P<sep>,?\s+)(?P<y>\d{{4}}|'\d{{2}})", re.I)),
    ("mon", re.compile(_MON_RE, re.I)),
    ("my", re.compile(r"(?P<m>\d{1,2})/(?P<y>\d{4}|\d{2})")),
    ("year", re.compile(r"(?P<apo>')?(?P<y>\d{4})")),
    ("yy", re.compile(r"(?P<apo>')?(?P<y>\d{2})(?P<apo2>')?")),
    ("day", re.compile(rf"(?P<the>the\s+)?(?P<d>\d{{1,2}}){_ORD}", re.I)),
]
_INNER = re.compile(r"(?<!\d)(\d{1,2})([/-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?!\d)")


def _month_index(name: str) -> int:
    low = name.lower()[:3]
    return next(i for i, m in enumerate(_MONTHS) if m.startswith(low)) + 1


def _render_month(original: str, month: int) -> str:
    full = _MONTHS[month - 1]
    core = original.rstrip(".")
    if len(core) <= 3 and core.lower() != "may":
        text = full[:3]
    elif len(core) == 4 and core.lower() == "sept":
        text = full[:4] if month == 9 else full[:3]
    else:
        text = full
    if core.isupper():
        text = text.upper()
    elif core[:1].isupper():
        text = text.capitalize()
    return text


def _ordinal(n: int, template: str) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return suffix.upper() if template.isupper() else suffix


def _year_full(y: str) -> int:
    y = y.lstrip("'")
    if len(y) == 4:
        return int(y)
    n = int(y)
    return 2000 + n if n < 50 else 1900 + n


def _render_year(template: str, year: int) -> str:
    apo = "'" if template.startswith("'") else ""
    width = len(template.lstrip("'"))
    return apo + (f"{year:04d}" if width == 4 else f"{year % 100:02d}")


def _pad(template: str, n: int) -> str:
    return f"{n:02d}" if len(template) == 2 and template.startswith("0") else str(n)


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def shift_text(text: str, days: int, written_on: date | None = None) -> str | None:
    """The same date expression moved by ``days``; None when the text is not a date we know.

    A date written without its year ("Since 12/12", "On 03/01") is read in the year of the
    note's date ``written_on`` (the year before when it would fall more than two months after
    it): shifted in a fixed leap year, "On 03/01" of a 2025 note had moved a day apart from the
    note's own date."""
    lead = len(text) - len(text.lstrip(" \t.,;:()'\""))
    trail = len(text) - len(text.rstrip(' \t.,;:()"'))
    core = text[lead : len(text) - trail] if trail else text[lead:]
    if not core:
        return None
    out = _shift_core(core, days, written_on)
    if out is None:
        # a range or list: shift every numeric M/D(/Y) inside
        found = False

        def repl(m: re.Match[str]) -> str:
            nonlocal found
            res = _shift_core(m.group(0), days, written_on)
            if res is None:
                return m.group(0)
            found = True
            return res

        replaced = _INNER.sub(repl, core)
        out = replaced if found else None
    if out is None:
        return None
    return text[:lead] + out + (text[len(text) - trail :] if trail else "")


def _year_of(month: int, day: int, written_on: date | None) -> int:
    """The year of a date written without one (see :func:`shift_text`)."""
    if written_on is None:
        return _REF_YEAR
    this_year = _safe_date(written_on.year, month, day)
    if this_year is not None and this_year > written_on + timedelta(days=62):
        return written_on.year - 1
    if this_year is None and _safe_date(written_on.year - 1, month, day) is None:
        return _REF_YEAR  # Feb 29 near no leap year: keep it a date
    return written_on.year if this_year is not None else written_on.year - 1


def _shift_core(core: str, days: int, written_on: date | None = None) -> str | None:
    delta = timedelta(days=days)
    for name, regex in _FORMS:
        m = regex.fullmatch(core)
        if m is None:
            continue
        g = m.groupdict()
        if name in ("iso", "mdy", "md"):
            y = _year_full(g["y"]) if g.get("y") else _year_of(int(g["m"]), int(g["d"]), written_on)
            d0 = _safe_date(y, int(g["m"]), int(g["d"]))
            if d0 is None:
                continue
            d1 = d0 + delta
            # ISO keeps its field widths; M/D pads only when the original shows a leading zero
            padded = any(
                len(x) == 2 and (x.startswith("0") or name == "iso") for x in (g["m"], g["d"])
            )
            mm = f"{d1.month:02d}" if padded else str(d1.month)
            dd = f"{d1.day:02d}" if padded else str(d1.day)
            if name == "iso":
                return f"{d1.year:04d}{g['s']}{mm}{g['s']}{dd}"
            if name == "mdy":
                return f"{mm}{g['s']}{dd}{g['s']}{_render_year(g['y'], d1.year)}"
            return f"{mm}{g['s']}{dd}"
        if name == "mon_d_y":
            mon = _month_index(g["mon"])
            y = _year_full(g["y"]) if g.get("y") else _year_of(mon, int(g["d"]), written_on)
            d0 = _safe_date(y, mon, int(g["d"]))
            if d0 is None:
                continue
            d1 = d0 + delta
            out = f"{_render_month(g['mon'], d1.month)}{g['mdot']}{g['sp1']}{d1.day}"
            if g.get("ord"):
                out += _ordinal(d1.day, g["ord"])
            if g.get("y"):
                out += f"{g['sep']}{_render_year(g['y'], d1.year)}"
            return out
        if name == "d_mon_y":
            mon = _month_index(g["mon"])
            y = _year_full(g["y"]) if g.get("y") else _year_of(mon, int(g["d"]), written_on)
            d0 = _safe_date(y, mon, int(g["d"]))
            if d0 is None:
                continue
            d1 = d0 + delta
            out = (g.get("the") or "") + _pad(g["d"], d1.day)
            if g.get("ord"):
                out += _ordinal(d1.day, g["ord"])
            out += g["of"] + _render_month(g["mon"], d1.month) + (g.get("mdot") or "")
            if g.get("y"):
                out += f"{g['sep']}{_render_year(g['y'], d1.year)}"
            return out
        if name in ("mon_y", "mon"):
            y = _year_full(g["y"]) if g.get("y") else _REF_YEAR
            d1 = date(y, _month_index(g["mon"]), 15) + delta
            out = _render_month(g["mon"], d1.month) + g["mdot"]
            if g.get("y"):
                out += f"{g['sep']}{_render_year(g['y'], d1.year)}"
            return out
        if name == "my":
            d0 = _safe_date(_year_full(g["y"]), int(g["m"]), 15)
            if d0 is None:
                continue
            d1 = d0 + delta
            return f"{_pad(g['m'], d1.month)}/{_render_year(g['y'], d1.year)}"
        if name == "year":
            d1 = date(int(g["y"]), 7, 2) + delta
            return (g.get("apo") or "") + f"{d1.year:04d}"
        if name == "yy":
            n = int(g["y"])
            if n > 31 or g.get("apo") or g.get("apo2"):
                d1 = date(_year_full(g["y"]), 7, 2) + delta
                return (g.get("apo") or "") + f"{d1.year % 100:02d}" + (g.get("apo2") or "")
            name = "day"
            g = {"the": None, "d": g["y"], "ord": None}
        if name == "day":
            d0 = _safe_date(_REF_YEAR, 1, int(g["d"]))
            if d0 is None:
                continue
            d1 = d0 + timedelta(days=days % 28 or 7)  # day-of-month alone: move within a month
            day = (int(g["d"]) - 1 + (days % 28 or 7)) % 28 + 1
            out = (g.get("the") or "") + str(day)
            if g.get("ord"):
                out += _ordinal(day, g["ord"])
            return out
    return None
