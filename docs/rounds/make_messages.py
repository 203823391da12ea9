"""make_messages.py ROUND_DIR: each NN.txt -> NN.json|NN.hl7. Front matter lines:
#fmt: docref|bundle|mdm|oru   #pt: Last^First|MRN|YYYYMMDD|F   #date: YYYYMMDD"""

import base64
import json
import sys
import uuid
from pathlib import Path

from streamproc.bench.synth import hl7_escape

d = Path(sys.argv[1])
for f in sorted(d.glob("*.txt")):
    lines = f.read_text().splitlines()
    meta = {}
    while lines and lines[0].startswith("#"):
        k, _, v = lines.pop(0)[1:].partition(":")
        meta[k.strip()] = v.strip()
    text = "\n".join(lines).strip() + "\n"
    fmt = meta.get("fmt", "docref")
    last_first, mrn, dob, sex = meta["pt"].split("|")
    last, first = last_first.split("^")
    date = meta.get("date", "20260315")
    iso = f"{date[:4]}-{date[4:6]}-{date[6:8]}T10:00:00-05:00"
    nid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{d.name}/{f.name}"))  # the same ids wherever it runs
    if fmt in ("docref", "bundle"):
        pat = {
            "resourceType": "Patient",
            "id": "p" + mrn,
            "identifier": [{"system": "urn:oid:1.2.840.114350", "value": mrn}],
            "name": [{"family": last, "given": [first]}],
            "gender": {"F": "female", "M": "male"}[sex],
            "birthDate": f"{dob[:4]}-{dob[4:6]}-{dob[6:8]}",
        }
        doc = {
            "resourceType": "DocumentReference",
            "id": nid,
            "status": "current",
            "type": {
                "coding": [
                    {"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}
                ]
            },
            "subject": {"reference": "Patient/p" + mrn},
            "date": iso,
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(text.encode()).decode(),
                    }
                }
            ],
        }
        if fmt == "docref":
            doc["contained"] = [pat]
            doc["subject"] = {"reference": "#p" + mrn}
            out = doc
        else:
            out = {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {
                        "fullUrl": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, mrn)),
                        "resource": pat,
                    },
                    {"fullUrl": "urn:uuid:" + nid, "resource": doc},
                ],
            }
            doc["subject"] = {"reference": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, mrn))}
        f.with_suffix(".json").write_text(json.dumps(out))
    else:
        kind = "MDM^T02^MDM_T02" if fmt == "mdm" else "ORU^R01^ORU_R01"
        msh = f"MSH|^~\\&|EPIC|GENHOSP|STREAMPROC|GENHOSP|{date}1000||{kind}|{nid[:20]}|P|2.5.1"
        pid = f"PID|1||{mrn}^^^GENHOSP^MR||{last}^{first}||{dob}|{sex}"
        pv1 = f"PV1|1|I|4W^401^1||||1234^Attending^Ann|||MED||||||||V{mrn[-4:]}^^^GENHOSP^VN"
        if fmt == "mdm":
            segs = [
                msh,
                f"EVN|T02|{date}1000",
                pid,
                pv1,
                f"TXA|1|PN|TX|{date}1000|||{date}1000|||||{nid[:16]}||||||AU",
            ]
        else:
            segs = [msh, pid, pv1, f"OBR|1||{nid[:16]}|11506-3^Progress note^LN|||{date}1000"]
        for i, line in enumerate(text.splitlines(), 1):
            segs.append(f"OBX|{i}|TX|11506-3^Progress note^LN||{hl7_escape(line)}||||||F")
        f.with_suffix(".hl7").write_text("\r".join(segs) + "\r")
