"""The shipped pipeline gives the same output whatever Python's hash seed: a replay or a
redelivery must publish the same Conditions and alerts, not the ones a set's order chose.

Round 55's sickle cell note had published its "sickle cell disease" mentions under one crisis
or the other from run to run (a set of codes iterated in hash order)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOTE = """\
PEDIATRIC HEMATOLOGY INPATIENT NOTE
Background: 11-year-old boy with sickle cell disease (HbSS) on hydroxyurea, history of two prior
acute chest syndrome episodes (2019, 2022) and splenic sequestration at age 3. Admitted with
vaso-occlusive pain crisis in the back and legs. Received morphine PCA since admission; pruritus
and constipation on morphine.

Assessment and plan:
1. Acute chest syndrome - ceftriaxone and azithromycin; simple transfusion.
2. Vaso-occlusive pain crisis, improving - morphine PCA, ketorolac.
3. Opioid-induced pruritus - diphenhydramine as needed.
4. Sickle cell disease, HbSS - continue hydroxyurea; folic acid.
5. Supratherapeutic INR with bleeding - warfarin potentiated by trimethoprim-sulfamethoxazole.
6. Recurrent falls - multifactorial: lorazepam-associated sedation, orthostatic hypotension
(tamsulosin likely contributing), and dementia.
"""

_SCRIPT = """
import json, sys
from streamproc.config import load_settings
from streamproc.nlp import build_analyzer
an = build_analyzer(load_settings(), None)
text = sys.stdin.read()
res = an.analyze_text(text, an.predict_entities([text])[0])
print(json.dumps({
    "entities": [[e.start, e.end, e.label, e.assertion, [c.code for c in e.codes]]
                 for e in res.entities],
    "relations": [[r.drug.text, r.effect.start, r.actuality] for r in res.relations],
}))
"""


def _analysed(seed: str, tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "STREAMPROC_STATE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=NOTE,
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_analysis_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    runs = [_analysed(seed, tmp_path) for seed in ("0", "2", "3")]
    assert runs[0]["relations"], "the note's alerts are part of what must not change"
    assert runs[0] == runs[1] == runs[2]
