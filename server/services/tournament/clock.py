"""The server-authoritative tournament clock.

The clock is a pure function of the structure, when it started, how long it has been paused,
and now: nothing ticks in memory, so every instance and every resumed client computes the same
level, phase and time remaining, corrected for pauses and for time spent offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.services.tournament.structure import Structure


@dataclass(frozen=True)
class Phase:
    index: int           # position in the timeline, 0-based
    kind: str            # "level" or "break"
    level: int           # the level number (1-based); for a break, the level it follows
    starts_at_s: float   # running seconds since start
    duration_s: float | None  # None for the last level, which runs until the end


def timeline(structure: Structure) -> list[Phase]:
    breaks = {b.after_level: b.duration_s for b in structure.breaks}
    phases: list[Phase] = []
    offset = 0.0
    last = len(structure.levels)
    for number, level in enumerate(structure.levels, start=1):
        duration = None if number == last else float(level.duration_s)
        phases.append(Phase(len(phases), "level", number, offset, duration))
        offset += level.duration_s
        if number in breaks:
            phases.append(Phase(len(phases), "break", number, offset, float(breaks[number])))
            offset += breaks[number]
    return phases


@dataclass(frozen=True)
class ClockState:
    started_at: float | None = None   # unix seconds when the clock first started
    paused_at: float | None = None    # set while paused
    paused_total: float = 0.0         # seconds spent paused before `paused_at`

    def running_seconds(self, now: float) -> float:
        if self.started_at is None:
            return 0.0
        end = self.paused_at if self.paused_at is not None else now
        return max(0.0, end - self.started_at - self.paused_total)

    def start(self, now: float) -> ClockState:
        return ClockState(started_at=now)

    def pause(self, now: float) -> ClockState:
        return ClockState(self.started_at, now, self.paused_total)

    def resume(self, now: float) -> ClockState:
        assert self.paused_at is not None
        return ClockState(self.started_at, None, self.paused_total + (now - self.paused_at))


@dataclass(frozen=True)
class ClockReading:
    phase: Phase
    remaining_s: float | None
    running_s: float
    started: bool
    paused: bool

    @property
    def level(self) -> int:
        return self.phase.level

    @property
    def on_break(self) -> bool:
        return self.phase.kind == "break"


def read_clock(structure: Structure, state: ClockState, now: float) -> ClockReading:
    phases = timeline(structure)
    running = state.running_seconds(now)
    current = phases[0]
    for phase in phases:
        if phase.starts_at_s <= running:
            current = phase
        else:
            break
    remaining = None
    if current.duration_s is not None:
        remaining = max(0.0, current.starts_at_s + current.duration_s - running)
    return ClockReading(current, remaining, running, state.started_at is not None,
                        state.paused_at is not None)


def next_transition_at(structure: Structure, state: ClockState, now: float) -> float | None:
    """Wall-clock time of the next phase change, or None while paused, not started, or at the end."""
    if state.started_at is None or state.paused_at is not None:
        return None
    reading = read_clock(structure, state, now)
    if reading.remaining_s is None:
        return None
    return now + reading.remaining_s
