"""A cancer named by its organ ("ovarian CA", "renal cell carcinoma" excepted): the site's code.

The lexical coder reads descriptions written with nouns ("Malignant neoplasm of ovary") and
matched "ovarian cancer" to an ovarian cyst, "renal cancer" to a kidney disorder and "esophageal
cancer" to an obstruction; in ICU notes the NER model also often tags only the "CA" of "OVARIAN
CA" (a bare "CA" codes to C80.1, primary site unknown). One organ word (adjective or noun) and
one cancer word, with at most a side and "primary" before them, is the organ's unspecified
malignant-neoplasm code; anything longer ("small cell lung cancer", "metastatic …") is left to
the lexical coder.

A *tumor* named by its organ is the Neoplasm Table's "unspecified behavior" column (the index:
"Tumor — see Neoplasm, unspecified behavior, by site"): "liver tumor" D49.0, not D13.4 benign;
"lung tumor" D49.1, not C34.90 malignant.
"""

from __future__ import annotations

import re

# organ word -> ICD-10-CM code of the malignant neoplasm of that site, unspecified part
SITE_CODES: dict[str, str] = {
    "ovarian": "C56.9",
    "ovary": "C56.9",
    "laryngeal": "C32.9",
    "larynx": "C32.9",
    "lung": "C34.90",
    "pulmonary": "C34.90",
    "bronchogenic": "C34.90",
    "liver": "C22.9",
    "hepatic": "C22.9",
    "renal": "C64.9",
    "kidney": "C64.9",
    "gastric": "C16.9",
    "stomach": "C16.9",
    "pancreatic": "C25.9",
    "pancreas": "C25.9",
    "colon": "C18.9",
    "colonic": "C18.9",
    "colorectal": "C18.9",
    "rectal": "C20",
    "rectum": "C20",
    "esophageal": "C15.9",
    "oesophageal": "C15.9",
    "esophagus": "C15.9",
    "bladder": "C67.9",
    "breast": "C50.919",
    "prostate": "C61",
    "prostatic": "C61",
    "brain": "C71.9",
    "thyroid": "C73",
    "cervical": "C53.9",
    "cervix": "C53.9",
    "uterine": "C55",
    "uterus": "C55",
    "endometrial": "C54.1",
    "testicular": "C62.90",
    "skin": "C44.90",
    "tongue": "C02.9",
    "oral": "C06.9",
    "gallbladder": "C23",
    # head and neck: "Oropharyngeal SCC", "squamous cell carcinoma of the oropharynx (right
    # tonsil)" had been a skin cancer, C44.92
    "oropharyngeal": "C10.9",
    "oropharynx": "C10.9",
    "tonsil": "C09.9",
    "tonsillar": "C09.9",
    "nasopharyngeal": "C11.9",
    "nasopharynx": "C11.9",
    "hypopharyngeal": "C13.9",
    "hypopharynx": "C13.9",
    "head and neck": "C76.0",
    "anal": "C21.0",
    "anus": "C21.0",
    "vulvar": "C51.9",
    "vulva": "C51.9",
}
CANCER_WORDS = (
    "cancer",
    "ca",
    "carcinoma",
    "malignancy",
    "adenocarcinoma",
    "scc",
    "squamous cell carcinoma",
    "squamous cell cancer",
)
_ORGANS = "|".join(sorted(SITE_CODES, key=len, reverse=True))
_SITE_CANCER = re.compile(
    rf"^(?:primary\s+)?(?:(?P<side>left|right|l|r|bilateral|bilat)\.?\s+)?({_ORGANS})\s+"
    rf"(?:{'|'.join(CANCER_WORDS)})s?"
    # "breast cancer of the left breast"
    rf"(?:\s+of\s+the\s+(?P<side_after>left|right)\s+(?:{_ORGANS}))?\.?$",
    re.IGNORECASE,
)
# "squamous cell carcinoma of the oropharynx", "carcinoma of the left breast"
_CANCER_OF_SITE = re.compile(
    rf"^(?:primary\s+)?(?:{'|'.join(CANCER_WORDS)})s?\s+of\s+(?:the\s+)?"
    rf"(?:(?P<side>left|right)\s+)?({_ORGANS})\.?$",
    re.IGNORECASE,
)
# the paired organs whose code says the side: "left breast cancer" is C50.912, not C50.919
_SIDED = {
    "C50.919": ("C50.912", "C50.911"),
    "C34.90": ("C34.92", "C34.91"),
    "C64.9": ("C64.2", "C64.1"),
    "C56.9": ("C56.2", "C56.1"),
    "C62.90": ("C62.92", "C62.91"),
}
ORGAN_BEFORE = re.compile(rf"\b({_ORGANS})\s+$", re.IGNORECASE)
# the organ written after a bare cancer word: "Squamous cell carcinoma of the oropharynx"
ORGAN_AFTER = re.compile(
    rf"[ \t]+of[ \t]+(?:the[ \t]+)?(?:(?:left|right)[ \t]+)?({_ORGANS})\b", re.IGNORECASE
)


def site_code(mention: str) -> str | None:
    """The site's code for "<organ> cancer(s)|CA|carcinoma(s)" (normalised mention), else None."""
    m = _SITE_CANCER.match(mention.strip()) or _CANCER_OF_SITE.match(mention.strip())
    if m is None:
        return None
    code = SITE_CODES[m.group(2).lower()]
    side = (m.group("side") or m.groupdict().get("side_after") or "").lower()
    if code in _SIDED and side in ("left", "l", "right", "r"):
        return _SIDED[code][0 if side.startswith("l") else 1]
    return code


# The Neoplasm Table's "unspecified behavior" column by the site's malignant block: a site above
# names its tumour too, so the organ words are not listed twice.
_UNSPECIFIED_BEHAVIOR = (
    (("C00", "C26"), "D49.0"),  # lip, oral cavity, pharynx, digestive organs
    (("C30", "C39"), "D49.1"),  # respiratory
    (("C40", "C49"), "D49.2"),  # bone, skin, soft tissue
    (("C50", "C50"), "D49.3"),  # breast
    (("C64", "C64"), "D49.519"),  # kidney
    (("C67", "C67"), "D49.4"),  # bladder
    (("C51", "C68"), "D49.59"),  # other genitourinary organs (the first match wins)
    (("C71", "C71"), "D49.6"),  # brain
    (("C70", "C75"), "D49.7"),  # endocrine glands, other nervous system
)


def _unspecified_behavior(malignant: str) -> str | None:
    block = malignant[:3]
    return next((code for (lo, hi), code in _UNSPECIFIED_BEHAVIOR if lo <= block <= hi), None)


# organ word -> neoplasm of unspecified behavior (D49): the cancer sites' own, and organs named
# with "tumor" more than with "cancer"
TUMOR_SITE_CODES: dict[str, str] = {
    **{o: d for o, c in SITE_CODES.items() if (d := _unspecified_behavior(c))},
    **{w: "D49.0" for w in ("bowel", "intestinal")},
    **{w: "D49.1" for w in ("bronchial", "tracheal")},
    **{w: "D49.2" for w in ("bone", "soft tissue")},
    **{w: "D49.7" for w in ("pituitary", "adrenal", "spinal", "spinal cord")},
}
_TUMOR_ORGANS = "|".join(sorted(TUMOR_SITE_CODES, key=len, reverse=True))
_SITE_TUMOR = re.compile(
    rf"^(?:(?:left|right|l|r|bilateral|bilat)\.?\s+)?({_TUMOR_ORGANS})\s+(?:tumou?rs?|neoplasms?)\.?$",
    re.IGNORECASE,
)


def tumor_site_code(mention: str) -> str | None:
    """The site's unspecified-behavior code for "<organ> tumor(s)|neoplasm(s)", else None."""
    m = _SITE_TUMOR.match(mention.strip())
    return TUMOR_SITE_CODES[m.group(1).lower()] if m else None


def is_bare_cancer(mention: str) -> bool:
    return mention.strip(" .").lower() in CANCER_WORDS
