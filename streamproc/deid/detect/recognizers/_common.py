"""Shared regex fragments for recognizers (compiled by the recognizers themselves)."""

MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
MONTH_DOT = MONTH + r"\.?"
DAY = r"(?:0?[1-9]|[12]\d|3[01])"
MON_NUM = r"(?:0?[1-9]|1[0-2])"
ORD = r"(?:st|nd|rd|th)"
YEAR4 = r"(?:19\d{2}|20\d{2})"
