"""``report.json`` and a self-contained ``report.html`` (inline CSS and SVG, no scripts, no network)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from gitops.monitoring.metrics import LOWER_IS_DRIFT
from gitops.monitoring.results import FeatureResult, MonitorResult

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;font-size:.9rem}
th{background:#f6f8fa}.breach{color:#b42318;font-weight:600}.ok{color:#1a7f37}
.skip{color:#6e7781}.chart{margin:.5rem 0 1.5rem}code{background:#f6f8fa;padding:0 .2rem}
"""
BAR_REF = "#6e7781"
BAR_PROD = "#d1242f"
# People read the report: an en dash stands for "no value" and joins the ends of a time window.
DASH = "\u2013"


def write_report(result: MonitorResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    result.report_dir = str(out_dir)
    (out_dir / "report.json").write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(result), encoding="utf-8")


def _fmt(v: float | None) -> str:
    if v is None:
        return DASH
    return f"{v:.4g}"


def _span(window: dict[str, str | None], open_start: str) -> str:
    since = escape(str(window.get("since") or open_start))
    until = escape(str(window.get("until") or "now"))
    return f"{since} {DASH} {until}"


def render_html(result: MonitorResult) -> str:
    verdict = (
        '<span class="breach">threshold breached</span>'
        if result.breached
        else '<span class="ok">no threshold breached</span>'
    )
    target = f"{result.endpoint}/{result.deployment}" if result.endpoint else DASH
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Monitor {escape(result.monitor)}</title><style>{CSS}</style></head><body>",
        f"<h1>Monitor <code>{escape(result.monitor)}</code>: {verdict}</h1>",
        f"<p>Environment <b>{escape(result.env or DASH)}</b> · deployment <b>{escape(target)}</b> · "
        f"generated {escape(result.generated_at)} · window {_span(result.window, 'all')}"
        f" · from <code>{escape(result.file)}</code></p>",
        "<p>Distances and rates breach when above the threshold; the KS and chi-squared tests report "
        "p-values, which breach when below it.</p>",
    ]
    parts.append("<table><tr><th>Signal</th><th>Type</th><th>Status</th><th>Rows (ref / prod)</th></tr>")
    for s in result.signals:
        cls = {"breached": "breach", "ok": "ok"}.get(s.status, "skip")
        parts.append(
            f"<tr><td><a href='#sig-{escape(s.name)}'>{escape(s.name)}</a></td><td>{escape(s.type)}</td>"
            f"<td class='{cls}'>{escape(s.status)}</td><td>{s.reference_rows} / {s.production_rows}</td></tr>"
        )
    parts.append("</table>")
    for s in result.signals:
        parts.append(f"<h2 id='sig-{escape(s.name)}'>{escape(s.name)} <small>({escape(s.type)})</small></h2>")
        if s.status == "not_evaluated":
            parts.append(f"<p class='skip'>Not evaluated: {escape(s.reason)}</p>")
            continue
        window = f" · window {_span(s.window, '…')}" if s.window else ""
        parts.append(
            f"<p>Reference <code>{escape(s.reference)}</code> · "
            f"production <code>{escape(s.production)}</code>{window}</p>"
        )
        for note in s.notes:
            parts.append(f"<p class='skip'>{escape(note)}</p>")
        parts.append(_feature_table(s.features))
        for f in s.features:
            if f.breaches and f.chart and f.chart["labels"]:
                parts.append(f"<h3>{escape(f.feature)}: {escape(', '.join(f.breaches))}</h3>")
                parts.append(f"<div class='chart'>{svg_bars(f.chart)}</div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _feature_table(features: list[FeatureResult]) -> str:
    metric_names: list[str] = []
    for f in features:
        for m in list(f.thresholds) + [m for m in f.metrics if m not in f.thresholds]:
            if m not in metric_names:
                metric_names.append(m)
    head = "".join(f"<th>{escape(m)}</th>" for m in metric_names)
    rows = [f"<table><tr><th>Feature</th><th>Kind</th>{head}</tr>"]
    for f in features:
        cells = []
        for m in metric_names:
            v = f.metrics.get(m)
            thr = f.thresholds.get(m)
            text = _fmt(v)
            if thr is not None:
                op = "&lt;" if m in LOWER_IS_DRIFT else "&gt;"
                text += f" <small>(alert {op} {_fmt(thr)})</small>"
            cls = " class='breach'" if m in f.breaches else ""
            cells.append(f"<td{cls}>{text}</td>")
        note = f"<br><small class='skip'>{escape(f.note)}</small>" if f.note else ""
        rows.append(f"<tr><td>{escape(f.feature)}{note}</td><td>{f.kind}</td>{''.join(cells)}</tr>")
    rows.append("</table>")
    return "".join(rows)


def svg_bars(chart: dict[str, Any], width: int = 900, height: int = 260) -> str:
    """Grouped bars: reference (grey) and production (red) share of rows per bin/category."""
    labels: list[str] = chart["labels"]
    ref: list[float] = chart["reference"]
    prod: list[float] = chart["production"]
    n = len(labels)
    left, bottom, top = 50, 90, 20
    plot_w = width - left - 10
    plot_h = height - bottom - top
    peak = max([*ref, *prod, 1e-12])
    group = plot_w / max(n, 1)
    bar = group * 0.4
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='reference vs production distribution'>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 10}' y2='{top + plot_h}' stroke='#57606a'/>",
        f"<text x='5' y='{top + 10}' font-size='11'>{peak:.0%}</text>",
        f"<text x='5' y='{top + plot_h}' font-size='11'>0%</text>",
        f"<rect x='{left}' y='2' width='10' height='10' fill='{BAR_REF}'/>"
        f"<text x='{left + 14}' y='11' font-size='11'>reference</text>",
        f"<rect x='{left + 90}' y='2' width='10' height='10' fill='{BAR_PROD}'/>"
        f"<text x='{left + 104}' y='11' font-size='11'>production</text>",
    ]
    for i, label in enumerate(labels):
        x0 = left + i * group + group * 0.1
        for j, (vals, colour) in enumerate(((ref, BAR_REF), (prod, BAR_PROD))):
            h = plot_h * vals[i] / peak
            out.append(
                f"<rect x='{x0 + j * bar:.1f}' y='{top + plot_h - h:.1f}' width='{bar:.1f}' "
                f"height='{h:.1f}' fill='{colour}'><title>{escape(label)}: {vals[i]:.1%}</title></rect>"
            )
        tx = x0 + bar
        ty = top + plot_h + 12
        out.append(
            f"<text x='{tx:.1f}' y='{ty}' font-size='10' text-anchor='end' "
            f"transform='rotate(-45 {tx:.1f} {ty})'>{escape(label[:24])}</text>"
        )
    out.append("</svg>")
    return "".join(out)
