"""Line charts as SVG geometry, computed here and drawn by a Jinja macro: no chart library, no JS.

Seconds are grouped into `bins` so five minutes read as 60 points; a bin with no data is 0 for a rate
and a gap for a latency (nothing was delivered, so nothing took time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 600, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22


@dataclass(frozen=True)
class Line:
    label: str
    css: str
    values: list[float | None]  # one per bin, None for a gap


@dataclass
class Chart:
    title: str
    unit: str
    seconds: int
    lines: list[Line] = field(default_factory=list)

    @property
    def top(self) -> float:
        """The y axis' maximum: the largest value rounded up to a readable number (at least 1)."""
        largest = max((v for line in self.lines for v in line.values if v is not None), default=0.0)
        return nice_ceiling(largest)

    def paths(self) -> list[tuple[Line, list[str]]]:
        """Each line as SVG polyline point lists (one list per unbroken run)."""
        return [(line, self._runs(line.values)) for line in self.lines]

    def _runs(self, values: list[float | None]) -> list[str]:
        runs: list[str] = []
        current: list[str] = []
        step = (WIDTH - LEFT - RIGHT) / max(1, len(values) - 1)
        for index, value in enumerate(values):
            if value is None:
                if current:
                    runs.append(" ".join(current))
                current = []
                continue
            x = LEFT + index * step
            y = TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / self.top)
            current.append(f"{x:.1f},{y:.1f}")
        if current:
            runs.append(" ".join(current))
        return runs

    def summary(self) -> str:
        """The chart in words, for screen readers (and anyone): the latest and the peak of each line."""
        parts = []
        for line in self.lines:
            known = [v for v in line.values if v is not None]
            if not known:
                parts.append(f"{line.label}: no data")
                continue
            parts.append(f"{line.label}: latest {_fmt(known[-1])}, peak {_fmt(max(known))} {self.unit}")
        return f"{self.title} over the last {self.seconds // 60} minutes. " + "; ".join(parts) + "."


def nice_ceiling(value: float) -> float:
    if value <= 1:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def binned(
    points: list[dict[str, float | None]], start: int, seconds: int, bins: int, key: str, weight: str | None = None
) -> list[float | None]:
    """`points` ({t, key, ...}) per bin of `seconds / bins` seconds: without `weight`, the rate per second
    of `key`'s sum; with it, `key`'s mean weighted by `weight` (None where nothing was weighed)."""
    width = max(1, seconds // bins)
    sums = [0.0] * bins
    weights = [0.0] * bins
    for point in points:
        value, t = point.get(key), point.get("t")
        if value is None or t is None:
            continue
        index = int((t - start) // width)
        if 0 <= index < bins:
            share = float(point.get(weight) or 0) if weight else 1.0
            sums[index] += value * share if weight else value
            weights[index] += share
    if weight:
        return [sums[i] / weights[i] if weights[i] else None for i in range(bins)]
    return [sums[i] / width for i in range(bins)]
