"""The weekly digest chart (matplotlib, Agg backend): reports by group and check-in rates.

Input is plain data (the digest's numbers, as stored in the outbox payload), output PNG
bytes; the sender renders it at send time so no image bytes sit in the database.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib import font_manager

SERIES = (
    ("opened", "#4C72B0"),
    ("resolved", "#55A868"),
    ("escalated", "#DD8452"),
    ("overdue", "#C44E52"),
)


def _font_props(font: Path | None) -> font_manager.FontProperties | None:
    if font is None:
        return None
    font_manager.fontManager.addfont(str(font))
    return font_manager.FontProperties(fname=str(font))


def digest_png(data: dict[str, Any], *, labels: dict[str, str], font: Path | None) -> bytes:
    """A two-panel PNG: grouped bars of report counts per group, check-in rate per captain."""
    props = _font_props(font)
    groups = data.get("groups", [])
    rates = data.get("rates", [])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), dpi=110)
    try:
        width = 0.2
        xs = range(len(groups))
        for i, (key, colour) in enumerate(SERIES):
            top.bar(
                [x + (i - 1.5) * width for x in xs],
                [g[key] for g in groups],
                width,
                label=labels.get(key, key),
                color=colour,
            )
        top.set_xticks(list(xs))
        top.set_xticklabels(
            [g["group"] for g in groups], fontproperties=props, rotation=20, fontsize=8
        )
        # Emoji are not in CJK fonts (matplotlib warns and draws boxes): keep titles plain.
        title = "".join(ch for ch in data.get("title", "") if ord(ch) < 0x10000).strip()
        top.set_title(title, fontproperties=props)
        top.legend(prop=props, fontsize=8)
        names = [r[0] or "?" for r in rates]
        values = [100.0 * r[1] / r[2] if r[2] else 0.0 for r in rates]
        bottom.barh(range(len(names)), values, color="#8172B3")
        bottom.set_yticks(range(len(names)))
        bottom.set_yticklabels(names, fontproperties=props, fontsize=8)
        bottom.set_xlim(0, 100)
        bottom.set_xlabel(labels.get("rate", "check-in rate %"), fontproperties=props)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
