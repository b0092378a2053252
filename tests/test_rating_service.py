"""RatingService: results the server holds move ratings once, in the expected directions,
without lost updates when results for one player are applied at the same time."""

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from models.ratings import Rating, RatingChange, RatingResult
from models.realtime import RoomEvent
from models.tournaments import Tournament
from server.errors import Conflict, NotFound, ValidationFailed
from server.services import rating_math
from server.services.rating_math import Skill
from server.services.ratings import RatingService
from tests.factories import create_user


def source(name: str) -> str:
    """A source id unique to the test: the PostgreSQL database is shared by the session."""
    return f"{name}-{uuid.uuid4().hex[:10]}"


async def users(server, n):
    return [await create_user(server) for _ in range(n)]


async def state(user_id):
    row = await Rating.get(user_id=user_id)
    return (row.sr, row.st, row.mr, row.mt, row.gr, row.version)


async def rating_events(user_id):
    return await RoomEvent.filter(room=f"user_{user_id}", event="rating:update").order_by("seq")


async def test_nine_player_tournament_moves_ratings_in_place_order_and_applies_once(server):
    ratings = server.services.ratings
    players = await users(server, 9)
    tid = source("t9")
    placings = [(p.id, place) for place, p in enumerate(players, start=1)]

    outcome = await ratings.apply_result("tournament", tid, list(reversed(placings)))

    assert outcome.applied and [c["user_id"] for c in outcome.changes] == [p.id for p in players]
    rows = {r.user_id: r for r in await Rating.filter(user_id__in=[p.id for p in players])}
    srs = [rows[p.id].sr for p in players]
    assert srs[0] > 1500 > srs[-1]
    assert srs == sorted(srs, reverse=True) and len(set(srs)) == 9
    for p in players:
        row = rows[p.id]
        assert row.st < 350 and (row.mr, row.mt) == (1500, 350)  # a tournament leaves MR alone
        assert row.gr == pytest.approx(rating_math.global_rating(Skill(row.sr, row.st),
                                                                 Skill(row.mr, row.mt)))
        change = await RatingChange.get(user_id=p.id)
        assert (change.reason, change.source_id, change.field_size) == ("tournament", tid, 9)
        assert (change.sr_before, change.sr_after, change.gr_after) == (1500, row.sr, row.gr)
        assert change.mr_before == change.mr_after == 1500
        [event] = await rating_events(p.id)
        assert event.payload["change"]["sr_after"] == row.sr
        assert event.payload["rating"]["sr"] == row.sr and event.payload["rating"]["rated"]

    before = {p.id: await state(p.id) for p in players}
    again = await ratings.apply_result("tournament", tid, placings)

    assert not again.applied
    assert [c["sr_after"] for c in again.changes] == srs
    assert {p.id: await state(p.id) for p in players} == before
    assert await RatingChange.filter(source_id=tid).count() == 9
    assert all([len(await rating_events(p.id)) for p in players]) and \
        {len(await rating_events(p.id)) for p in players} == {1}


async def test_the_same_source_with_other_placings_is_refused_and_changes_nothing(server):
    ratings = server.services.ratings
    a, b, c = await users(server, 3)
    tid = source("t")
    await ratings.apply_result("tournament", tid, [(a.id, 1), (b.id, 2)])
    before = (await state(a.id), await state(b.id))

    with pytest.raises(Conflict):
        await ratings.apply_result("tournament", tid, [(a.id, 2), (b.id, 1)])
    with pytest.raises(Conflict):
        await ratings.apply_result("tournament", tid, [(a.id, 1), (b.id, 2), (c.id, 3)])

    assert (await state(a.id), await state(b.id)) == before
    assert not await Rating.exists(user_id=c.id)  # the refused result left no row behind


async def test_a_mixed_game_session_moves_mr_only_and_ties_move_alike(server):
    ratings = server.services.ratings
    a, b, c = await users(server, 3)
    await ratings.apply_result("mixed_game", source("m"), [(a.id, 1), (b.id, 1), (c.id, 3)])

    ra, rb, rc = [await Rating.get(user_id=u.id) for u in (a, b, c)]
    assert ra.mr == pytest.approx(rb.mr) and ra.mr > 1500 > rc.mr
    assert (ra.sr, ra.st, rc.sr, rc.st) == (1500, 350, 1500, 350)
    assert ra.mt < 350
    change = await RatingChange.get(user_id=c.id)
    assert change.reason == "mixed_game" and change.mr_after == rc.mr


async def test_a_p2p_game_moves_sr(server):
    a, b = await users(server, 2)
    await server.services.ratings.apply_result("p2p", source("g"), [(b.id, 1), (a.id, 2)])
    assert (await Rating.get(user_id=b.id)).sr > 1500 > (await Rating.get(user_id=a.id)).sr


async def test_uncertainty_grows_with_inactivity_before_a_result(server):
    ratings = server.services.ratings
    idle, active, rival = await users(server, 3)
    long_ago = datetime.now(UTC) - timedelta(days=365)
    for user, since in ((idle, long_ago), (active, datetime.now(UTC))):
        await Rating.create(user_id=user.id, sr=1700, st=60, mr=1500, mt=350, gr=1000)
        # auto_now sets last_update on every save: backdate it with a plain UPDATE.
        await Rating.filter(user_id=user.id).update(last_update=since)

    view = await ratings.rating(idle.id)
    assert view["st"] == 60 and view["st_now"] == pytest.approx(
        (60 ** 2 + 12.8 ** 2 * 365) ** 0.5, rel=1e-3)
    await ratings.apply_result("p2p", source("g"), [(rival.id, 1), (idle.id, 2)])
    await ratings.apply_result("p2p", source("g"), [(rival.id, 1), (active.id, 2)])

    idle_change = await RatingChange.get(user_id=idle.id)
    active_change = await RatingChange.get(user_id=active.id)
    assert idle_change.st_before == 60 and idle_change.st_after > 200
    assert active_change.st_after < 65  # only the per-game dynamics term (tau = 3.5)
    # The less certain rating moves further on the same loss.
    assert 1700 - idle_change.sr_after > 1700 - active_change.sr_after


@pytest.mark.parametrize("kind, source_id, placings, field", [
    ("ladder", "s1", None, "kind"),
    ("p2p", "", None, "source_id"),
    ("p2p", "x" * 65, None, "source_id"),
    ("p2p", "bad id;", None, "source_id"),
    ("p2p", "s1", "one", "placings"),
    ("p2p", "s1", "dup", "placings"),
    ("p2p", "s1", "zero_place", "placings"),
    ("p2p", "s1", "bool", "placings"),
])
async def test_malformed_results_are_refused_and_write_nothing(server, kind, source_id,
                                                                placings, field):
    a, b = await users(server, 2)
    shapes = {
        None: [(a.id, 1), (b.id, 2)], "one": [(a.id, 1)], "dup": [(a.id, 1), (a.id, 2)],
        "zero_place": [(a.id, 0), (b.id, 1)], "bool": [(a.id, True), (b.id, 2)],
    }
    with pytest.raises(ValidationFailed) as err:
        await server.services.ratings.apply_result(kind, source_id, shapes[placings])
    assert field in {d["loc"] for d in err.value.details}
    assert not await Rating.filter(user_id__in=[a.id, b.id]).exists()
    if len(source_id) <= 64:
        assert not await RatingResult.filter(source_id=source_id).exists()


async def test_a_result_naming_an_unknown_user_is_refused(server):
    a = (await users(server, 1))[0]
    with pytest.raises(NotFound):
        await server.services.ratings.apply_result("p2p", source("g"), [(a.id, 1), (2**62, 2)])
    assert not await Rating.exists(user_id=a.id)


async def test_too_many_placings_are_refused(server):
    ratings = RatingService(server.services.bus, idle_growth_per_day=0, max_placings=3)
    players = await users(server, 4)
    with pytest.raises(ValidationFailed):
        await ratings.apply_result("tournament", source("t"),
                                   [(p.id, i) for i, p in enumerate(players, 1)])


async def test_concurrent_results_for_one_player_lose_no_update(server):
    """Ten results for the same player at once: every one builds on the one before it."""
    # No idle growth, so the sequential replay below must match to the last bit.
    ratings = RatingService(server.services.bus, idle_growth_per_day=0, max_placings=100)
    hero, *rivals = await users(server, 11)
    results = [(source(f"c{i}"), [(hero.id, 1 if i % 3 else 2), (rival.id, 2 if i % 3 else 1)])
               for i, rival in enumerate(rivals)]

    outcomes = await asyncio.gather(*(ratings.apply_result("p2p", sid, placings)
                                      for sid, placings in results))

    assert all(o.applied for o in outcomes)
    row = await Rating.get(user_id=hero.id)
    changes = await RatingChange.filter(user_id=hero.id).order_by("id")
    assert len(changes) == 10 and row.version == 11
    # Each change starts exactly where the previous one ended: nothing was overwritten.
    assert changes[0].sr_before == 1500
    for earlier, later in itertools.pairwise(changes):
        assert (later.sr_before, later.st_before) == (earlier.sr_after, earlier.st_after)
    assert (row.sr, row.st) == (changes[-1].sr_after, changes[-1].st_after)
    # And the final state equals the same results applied in sequence, in the order they ran.
    hero_skill = rating_math.newcomer()
    placings_by_source = dict(results)
    for change in changes:
        placings = placings_by_source[change.source_id]
        rival_id = next(uid for uid, _ in placings if uid != hero.id)
        rival_change = await RatingChange.get(user_id=rival_id, source_id=change.source_id)
        skills = {hero.id: hero_skill, rival_id: Skill(rival_change.sr_before, rival_change.st_before)}
        ordered = sorted(placings, key=lambda p: (p[1], p[0]))
        rated = rating_math.rate_placings([skills[uid] for uid, _ in ordered],
                                          [place for _, place in ordered])
        hero_skill = rated[[uid for uid, _ in ordered].index(hero.id)]
    assert (row.sr, row.st) == (hero_skill.mu, hero_skill.sigma)


async def test_the_same_result_submitted_twice_at_once_applies_once(server):
    a, b = await users(server, 2)
    sid = source("dup")
    outcomes = await asyncio.gather(*(server.services.ratings.apply_result(
        "tournament", sid, [(a.id, 1), (b.id, 2)]) for _ in range(4)))

    assert sorted(o.applied for o in outcomes) == [False, False, False, True]
    assert await RatingChange.filter(source_id=sid).count() == 2
    assert (await Rating.get(user_id=a.id)).version == 2
    assert len(await rating_events(a.id)) == 1


async def finished_tournament(owner, players, games, status="finished"):
    levels = [{"small_blind": 10, "big_blind": 20, "duration_s": 600, "game": g} for g in games]
    tournament = await Tournament.create(
        id=uuid.uuid4().hex[:16], owner_id=owner.id, name="rated", table_count=1, status=status,
        structure={"levels": levels, "starting_stack": 1000, "seats_per_table": 9},
        players=[{"player_id": f"p{p.id}", "user_id": p.id, "name": ""} for p in players])
    return tournament.id


async def test_the_tournament_services_hook_rates_a_finished_tournament(server):
    """What the tournament service calls on a finish: its `rate_result` is RatingService's."""
    players = await users(server, 3)
    hook = server.services.tournaments.rate_result
    holdem = await finished_tournament(players[0], players, ["nlh", "nlh"])
    horse = await finished_tournament(players[0], players, ["lhe", "razz", "stud", "stud8"])
    running = await finished_tournament(players[0], players, ["nlh"], status="running")
    placings = [(p.id, place) for place, p in enumerate(players, 1)]

    await hook(holdem, placings)
    assert [c.reason for c in await RatingChange.filter(user_id=players[0].id)] == ["tournament"]
    await hook(horse, placings)
    reasons = await RatingChange.filter(user_id=players[0].id, source_id=horse
                                        ).order_by("id").values_list("reason", flat=True)
    assert reasons == ["tournament", "mixed_game"]  # a rotation of games also moves MR
    row = await Rating.get(user_id=players[0].id)
    assert row.sr > 1500 and row.mr > 1500
    with pytest.raises(Conflict):
        await hook(running, placings)
    assert not await RatingChange.filter(source_id=running).exists()


def test_idle_growth_is_capped_at_a_newcomers_uncertainty():
    assert rating_math.after_idle(Skill(1600, 100), 0, 12.8) == Skill(1600, 100)
    assert rating_math.after_idle(Skill(1600, 100), 10_000, 12.8) == Skill(1600, 350)
    assert rating_math.global_rating(rating_math.newcomer(), rating_math.newcomer()) == 800
