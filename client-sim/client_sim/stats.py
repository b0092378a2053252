"""Percentiles of latency samples, the same way in every scenario."""

from __future__ import annotations

from collections.abc import Iterable


def quantile(ordered: list[float], p: float) -> float | None:
    """The `p` quantile of an already sorted list (nearest rank), rounded to 0.01."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


def percentiles(samples: Iterable[float], prefix: str = "") -> dict[str, float | None]:
    """`{prefix}p50_ms`, `p90`, `p99` and `max` of `samples` (milliseconds)."""
    ordered = sorted(samples)
    return {f"{prefix}p50_ms": quantile(ordered, 0.5), f"{prefix}p90_ms": quantile(ordered, 0.9),
            f"{prefix}p99_ms": quantile(ordered, 0.99),
            f"{prefix}max_ms": round(ordered[-1], 2) if ordered else None}
