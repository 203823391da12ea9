"""``streamproc eval condition-status``: Condition ``clinicalStatus`` against Synthea's episodes.

A Synthea export records each condition as episodes (``onsetDateTime``, ``abatementDateTime``)
and writes the patient's conditions into later notes ("Patient has a history of E. coli urinary
tract infection, stress …"). For every Condition the product builds from a note and whose text
is one of the patient's recorded conditions, the gold status at the note's date is ``active``
when an episode covers that date and ``inactive`` when every episode had ended. The analyzer
and the Condition builder run in-process on the notes as parsed by the product's FHIR reader
(Synthea is synthetic, so the de-identifier is skipped and dates stay comparable).
Registered in ``streamproc.train.tasks.TASK_MODULES`` as ``"condition-status"``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from streamproc.nlp.entities import SEMANTIC_TAG
from streamproc.train.tasks import EvalOnlyTask

Episode = tuple[datetime, datetime | None]


def _name(text: str) -> str:
    return " ".join(SEMANTIC_TAG.sub("", text).lower().split())


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def recorded_episodes(folder: Path) -> dict[tuple[str, str], list[Episode]]:
    """(patient reference, condition name) -> its episodes, from ``Condition.ndjson``."""
    out: dict[tuple[str, str], list[Episode]] = defaultdict(list)
    for line in (folder / "Condition.ndjson").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        res = json.loads(line)
        onset = res.get("onsetDateTime")
        if not onset:
            continue
        end = res.get("abatementDateTime")
        key = (str(res.get("subject", {}).get("reference", "")), _name(res["code"]["text"]))
        out[key].append((_when(onset), _when(end) if end else None))
    return out


def status_at(episodes: list[Episode], when: datetime) -> str | None:
    """``active`` if an episode covers ``when``, ``inactive`` if all had ended, else None."""
    if any(onset <= when and (end is None or end > when) for onset, end in episodes):
        return "active"
    if any(end is not None and end <= when for _, end in episodes):
        return "inactive"
    return None


def evaluate_status(
    folder: Path, settings: Any | None = None, limit: int | None = None
) -> dict[str, Any]:
    from streamproc.config import load_settings
    from streamproc.fhir.condition import ConditionBuilder
    from streamproc.nlp import build_analyzer
    from streamproc.train.datasets.synthea_notes import note_events

    settings = settings or load_settings()
    folder = Path(folder)
    if (folder / "fhir").is_dir() and not (folder / "Condition.ndjson").is_file():
        folder = folder / "fhir"
    episodes = recorded_episodes(folder)
    # synthetic notes: analysed as they are so their dates match the recorded episodes
    notes = [n.model_copy(update={"deidentified": True}) for n in note_events(folder, limit)]
    analyzer = build_analyzer(settings, None)
    builder = ConditionBuilder()
    confusion: Counter[tuple[str, str, str]] = Counter()
    misses: Counter[tuple[str, str, str, str]] = Counter()
    conditions = 0
    for note, analysis in zip(notes, analyzer.analyze_batch(notes), strict=True):
        if note.authored is None:
            continue
        for msg in builder.build(note, analysis):
            conditions += 1
            res = msg.value
            gold = status_at(
                episodes.get((note.patient_ref or "", _name(res["code"]["text"])), []),
                note.authored,
            )
            if gold is None:
                continue
            ours = res["clinicalStatus"]["coding"][0]["code"]
            ours = "active" if ours == "active" else "inactive"
            category = res["category"][0]["coding"][0]["code"]
            confusion[(category, gold, ours)] += 1
            if gold != ours:
                misses[
                    (_name(res["code"]["text"]), res["code"]["coding"][0]["code"], gold, ours)
                ] += 1
    matched = sum(confusion.values())
    agree = sum(n for (_, gold, ours), n in confusion.items() if gold == ours)
    all_active = sum(n for (_, gold, _), n in confusion.items() if gold == "active")
    return {
        "task": "condition-status",
        "notes": len(notes),
        "conditions": conditions,
        "matched_to_recorded": matched,
        "agreement": round(agree / matched, 4) if matched else 0.0,
        "agreement_if_all_active": round(all_active / matched, 4) if matched else 0.0,
        "confusion": {f"{c} gold={g} ours={o}": n for (c, g, o), n in sorted(confusion.items())},
        "top_disagreements": [
            {"mention": m, "code": c, "gold": g, "ours": o, "n": n}
            for (m, c, g, o), n in misses.most_common(15)
        ],
    }


TASK = EvalOnlyTask(
    name="condition-status",
    description="Condition clinicalStatus against Synthea's recorded episodes (eval only)",
    run=lambda data, split, **kw: evaluate_status(data, kw.get("settings"), kw.get("limit")),
    train_hint="eval only: clinicalStatus comes from rules in fhir/condition.py",
)
