"""A self-contained HTML page for a replay score (no external assets: it opens anywhere)."""

from __future__ import annotations

import html
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:72rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.miss{background:#fde2e2}.ok{background:#e3f6e3}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:.6rem 1rem}
.card b{display:block;font-size:1.3rem}small{color:#666}
"""


def _prf_row(name: str, s: dict[str, Any]) -> str:
    cells = "".join(
        f"<td>{s[k]:.3f}</td>" if isinstance(s[k], float) else f"<td>{s[k]}</td>"
        for k in ("precision", "recall", "f1", "tp", "fp", "fn")
    )
    return f"<tr><td class=l>{html.escape(name)}</td>{cells}</tr>"


def _prf_table(rows: dict[str, dict[str, Any]]) -> str:
    head = "<tr><th class=l>measure</th><th>P</th><th>R</th><th>F1</th><th>TP</th><th>FP</th><th>FN</th></tr>"
    return "<table>" + head + "".join(_prf_row(k, v) for k, v in rows.items()) + "</table>"


def _doc_rows(docs: list[dict[str, Any]]) -> str:
    out = []
    for d in docs:
        pred, gold = set(d["predicted_conditions"]), set(d["gold_conditions"])
        cls = "ok" if pred == gold else "miss"
        out.append(
            f"<tr class={cls}><td class=l>{html.escape(d['key'])}</td>"
            f"<td class=l>{html.escape(', '.join(sorted(pred & gold)))}</td>"
            f"<td class=l>{html.escape(', '.join(sorted(pred - gold)))}</td>"
            f"<td class=l>{html.escape(', '.join(sorted(gold - pred)))}</td>"
            f"<td>{len(d['predicted_adverse_events'])}/{len(d['gold_adverse_events'])}</td>"
            f"<td>{d['latency_ms']:.1f}</td></tr>"
        )
    return "".join(out)


def render_html(result: dict[str, Any], title: str = "streamproc replay evaluation") -> str:
    docs = result["documents"]
    lat = result["latency_ms"]
    meta = result.get("run", {})
    cards = "".join(
        f"<div class=card><small>{html.escape(k)}</small><b>{v}</b></div>"
        for k, v in [
            ("documents replayed", docs["replayed"]),
            ("with gold labels", docs["with_gold"]),
            ("dead-lettered", docs["dead_lettered"]),
            ("condition F1 (exact)", f"{result['conditions']['exact']['f1']:.3f}"),
            ("ADE F1 (relaxed)", f"{result['adverse_events']['relaxed']['f1']:.3f}"),
            ("latency p50 / p95 ms", f"{lat['p50']} / {lat['p95']}"),
        ]
    )
    meta_rows = "".join(
        f"<tr><td class=l>{html.escape(str(k))}</td><td class=l>{html.escape(str(v))}</td></tr>"
        for k, v in meta.items()
    )
    return f"""<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1><div class=cards>{cards}</div>
<h2>Run</h2><table>{meta_rows}</table>
<h2>Conditions (ICD-10-CM, per document sets)</h2>
{_prf_table({"exact code": result["conditions"]["exact"], "3-character category": result["conditions"]["category"]})}
<h2>Adverse events (drug, effect pairs)</h2>
{_prf_table({"strict": result["adverse_events"]["strict"], "relaxed (substring)": result["adverse_events"]["relaxed"]})}
<h2>Latency per note (ms, ingest + de-id + NLP + FHIR, in-process)</h2>
<table><tr><th>p50</th><th>p95</th><th>max</th><th>mean</th></tr>
<tr><td>{lat["p50"]}</td><td>{lat["p95"]}</td><td>{lat["max"]}</td><td>{lat["mean"]}</td></tr></table>
<h2>Documents</h2><table><tr><th class=l>document</th><th class=l>correct codes</th>
<th class=l>extra codes</th><th class=l>missed codes</th><th>ADE pred/gold</th><th>ms</th></tr>
{_doc_rows(result["per_document"])}</table></body></html>"""
