"""The server clock and table balancing are pure functions: checked here without a server."""

import pytest

from server.services.tournament.balancing import plan_balance
from server.services.tournament.clock import ClockState, next_transition_at, read_clock, timeline
from server.services.tournament.structure import Structure

STRUCTURE = Structure.model_validate({
    "starting_stack": 1000, "seats_per_table": 9,
    "levels": [
        {"small_blind": 10, "big_blind": 20, "duration_s": 600, "game": "nlh"},
        {"small_blind": 20, "big_blind": 40, "duration_s": 600, "game": "razz"},
        {"small_blind": 30, "big_blind": 60, "ante": 5, "duration_s": 600, "game": "stud"},
    ],
    "breaks": [{"after_level": 2, "duration_s": 300}],
})
T0 = 1_700_000_000.0


def test_timeline_puts_breaks_after_their_level_and_the_last_level_is_open_ended():
    phases = timeline(STRUCTURE)
    assert [(p.kind, p.level, p.starts_at_s, p.duration_s) for p in phases] == [
        ("level", 1, 0, 600), ("level", 2, 600, 600), ("break", 2, 1200, 300),
        ("level", 3, 1500, None)]


@pytest.mark.parametrize("elapsed, level, on_break, remaining", [
    (0, 1, False, 600), (599, 1, False, 1), (600, 2, False, 600), (1250, 2, True, 250),
    (1500, 3, False, None), (99_999, 3, False, None),
])
def test_reading_the_clock(elapsed, level, on_break, remaining):
    reading = read_clock(STRUCTURE, ClockState().start(T0), T0 + elapsed)
    assert (reading.level, reading.on_break, reading.remaining_s) == (level, on_break, remaining)


def test_paused_time_does_not_count_and_offline_time_does():
    state = ClockState().start(T0).pause(T0 + 100)
    assert read_clock(STRUCTURE, state, T0 + 5000).remaining_s == 500  # frozen while paused
    state = state.resume(T0 + 5000)
    # 100 s before the pause + 650 s offline after the resume = 750 s: level 2, 150 s in.
    reading = read_clock(STRUCTURE, state, T0 + 5650)
    assert (reading.level, reading.remaining_s) == (2, 450)
    assert next_transition_at(STRUCTURE, state, T0 + 5650) == T0 + 6100


def test_no_transition_is_due_while_paused_or_unstarted():
    assert next_transition_at(STRUCTURE, ClockState(), T0) is None
    assert next_transition_at(STRUCTURE, ClockState().start(T0).pause(T0 + 1), T0 + 2) is None


def seating(*tables):
    return {t: {seat: f"p{t}_{seat}" for seat in range(1, n + 1)} for t, n in enumerate(tables, 1)}


def sizes_after(plan, seats):
    tables = {t: dict(s) for t, s in seats.items()}
    for m in plan.moves:
        assert tables[m.from_table].pop(m.from_seat) == m.player_id
        assert m.to_seat not in tables[m.to_table]
        tables[m.to_table][m.to_seat] = m.player_id
    return sorted(len(s) for t, s in tables.items() if t not in plan.broken_tables)


def test_balanced_tables_need_no_moves():
    assert plan_balance(seating(9, 8, 8), 9).empty


def test_uneven_tables_are_evened_to_within_one_player():
    seats = seating(9, 9, 5)
    plan = plan_balance(seats, 9)
    assert plan.broken_tables == [] and sizes_after(plan, seats) == [7, 8, 8]


def test_a_table_breaks_when_the_players_fit_on_fewer():
    seats = seating(6, 6, 6)  # 18 players fit on two tables of 9
    plan = plan_balance(seats, 9)
    assert plan.broken_tables == [3]
    assert sizes_after(plan, seats) == [9, 9]


def test_balancing_is_deterministic():
    seats = seating(9, 4, 7)
    assert plan_balance(seats, 9) == plan_balance(seats, 9)
