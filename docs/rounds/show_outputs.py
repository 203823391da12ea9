"""show_outputs.py out.jsonl [-v]: per note, the de-identified text (-v), Conditions and alerts."""

import json
import sys
from pathlib import Path

rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
verbose = "-v" in sys.argv
for r in rows:
    t, v = r["topic"], r["value"]
    if t.endswith("deid"):
        print("=" * 100)
        print("NOTE", v.get("note_id", "")[:12], v.get("source_format", ""))
        if verbose:
            print(v["text"])
    elif "dlq" in t:
        print("DLQ", json.dumps(v)[:300])
    elif "condition" in t:
        c = v
        code = (c.get("code", {}).get("coding") or [{}])[0]
        print(
            f"  C {code.get('code', '-'):9} {c.get('clinicalStatus', {}).get('coding', [{}])[0].get('code', '')[:8]:8} "
            f"{c.get('verificationStatus', {}).get('coding', [{}])[0].get('code', '')[:11]:11} "
            f"{c.get('category', [{}])[0].get('coding', [{}])[0].get('code', '')[:8]:8} "
            f"{c.get('code', {}).get('text', '')!r:40} {code.get('display', '')[:50]}"
        )
    elif "adverse" in t or "alert" in t:
        a = v
        if a.get("resourceType") == "AdverseEvent":
            ev = a.get("event", {})
            drug = ""
            for c in a.get("contained", []):
                if c.get("resourceType") in ("Medication", "MedicationStatement"):
                    drug = json.dumps(
                        c.get("code", c.get("medicationCodeableConcept", {})).get("text", "")
                    )
            sev = a.get("seriousness", {}).get("coding", [{}])[0].get("code", "")
            print(
                f"  A {a.get('actuality'):9} {sev:12} drug={drug} event={ev.get('text', '')!r} {(ev.get('coding') or [{}])[0].get('code', '')}"
            )
        else:
            print(
                f"  D {a.get('resourceType')} {a.get('severity', '')} {a.get('detail', '')[:120]!r}"
            )
