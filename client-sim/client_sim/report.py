"""Results: a final table on the terminal, a JSON file, and an HTML page with PNG plots."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BULKY_SUFFIXES = ("latencies_ms", "timeline", "timeline_weights")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Everything but the raw samples (latency lists and the delivery timeline)."""
    return {k: v for k, v in result.items() if not k.endswith(BULKY_SUFFIXES)}


def latency_series(result: dict[str, Any]) -> dict[str, list[float]]:
    """Each `*latencies_ms` list, named after its key (`fanout_latencies_ms` -> `fanout`)."""
    return {(k.removesuffix("latencies_ms").rstrip("_") or "delivery"): v
            for k, v in result.items() if k.endswith("latencies_ms") and v}


def print_table(result: dict[str, Any], console: Console | None = None) -> None:
    table = Table(title=f"client-sim {result.get('scenario')}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary(result).items():
        table.add_row(key, str(value))
    (console or Console()).print(table)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(result, indent=2))


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _plots(result: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = []
    for name, latencies in latency_series(result).items():
        ordered = sorted(latencies)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(ordered, [i / len(ordered) for i in range(len(ordered))])
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("fraction of samples")
        ax.set_title(f"{name} latency CDF")
        ax.grid(True, alpha=0.3)
        plots.append((f"{name} latency CDF", _png(fig)))
        plt.close(fig)
    timeline = result.get("timeline") or []
    if timeline:
        weights = result.get("timeline_weights") or [1] * len(timeline)
        label = result.get("timeline_label", "deliveries/s")
        start = timeline[0]
        seconds = int(timeline[-1] - start) + 1
        buckets = [0] * (seconds * 10)
        for t, weight in zip(timeline, weights):
            buckets[min(len(buckets) - 1, int((t - start) * 10))] += weight
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([i / 10 for i in range(len(buckets))], [b * 10 for b in buckets])
        ax.set_xlabel("seconds")
        ax.set_ylabel(f"{label} (100 ms buckets)")
        ax.set_title(f"{label} over time")
        ax.grid(True, alpha=0.3)
        plots.append((f"{label} over time", _png(fig)))
        plt.close(fig)
    return plots


def write_html(result: dict[str, Any], path: Path) -> None:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in summary(result).items())
    images = "".join(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{data}'>" for title, data in _plots(result))
    path.write_text(f"<!doctype html><meta charset='utf-8'><title>client-sim "
                    f"{html.escape(str(result.get('scenario')))}</title>"
                    f"<style>body{{font-family:sans-serif}}th{{text-align:left;padding-right:1em}}</style>"
                    f"<h1>client-sim {html.escape(str(result.get('scenario')))}</h1>"
                    f"<table>{rows}</table>{images}")
