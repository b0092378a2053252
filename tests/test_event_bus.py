"""The durable per-room log: seq assigned in the state change's transaction, delivered after commit."""

import asyncio
import uuid

import pytest

from models.realtime import RoomEvent
from server.services.event_bus import EventBus


@pytest.fixture
def room():
    """A room name unique to the test: the PostgreSQL database is shared by the session."""
    return lambda name: f"{name}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def bus(server):
    delivered = []

    async def deliver(events):
        delivered.extend(events)

    bus = EventBus(deliver)
    bus.delivered = delivered
    return bus


async def test_seq_is_per_room_monotonic_from_one(bus, room):
    room_a, room_b = room("a"), room("b")
    a1 = await bus.publish(room_a, "e", {"n": 1})
    a2 = await bus.publish(room_a, "e", {"n": 2})
    b1 = await bus.publish(room_b, "e", {"n": 1})
    assert (a1.seq, a2.seq, b1.seq) == (1, 2, 1)
    assert [e.seq for e in bus.delivered] == [1, 2, 1]
    assert a2.wire() == {"room": room_a, "seq": 2, "data": {"n": 2}}


async def test_events_are_delivered_only_after_commit(bus, room):
    room_c = room("c")
    async with bus.transaction() as tx:
        await tx.publish(room_c, "e", {"n": 1})
        await tx.publish(room_c, "e", {"n": 2})
        assert bus.delivered == []
    assert [e.seq for e in bus.delivered] == [1, 2]


async def test_a_rolled_back_transaction_leaves_no_event_and_no_seq(bus, room):
    room_d = room("d")
    with pytest.raises(RuntimeError):
        async with bus.transaction() as tx:
            await tx.publish(room_d, "e", {"n": 1})
            raise RuntimeError("business rule failed")
    assert bus.delivered == []
    assert await RoomEvent.filter(room=room_d).count() == 0
    assert (await bus.publish(room_d, "e", {"n": 2})).seq == 1


async def test_concurrent_publishers_get_unique_gap_free_seqs(bus, room):
    room_e = room("e")
    await asyncio.gather(*(bus.publish(room_e, "e", {"i": i}) for i in range(40)))
    seqs = sorted(await RoomEvent.filter(room=room_e).values_list("seq", flat=True))
    assert seqs == list(range(1, 41))


async def test_a_delivery_failure_never_fails_the_business_action(server, room):
    room_f = room("f")
    async def broken(events):
        raise ConnectionError("redis went away")

    record = await EventBus(broken).publish(room_f, "e", {"kept": True})
    stored = await RoomEvent.get(room=room_f, seq=record.seq)
    assert stored.payload == {"kept": True}


async def test_a_burst_of_publishes_shares_commits_and_keeps_each_callers_order(server, room):
    room_g = room("g")
    deliveries: list[list[int]] = []

    async def deliver(events):
        deliveries.append([e.seq for e in events])

    bus = EventBus(deliver)
    records = await asyncio.gather(*(bus.publish(room_g, "e", {"i": i}) for i in range(50)))

    assert [r.payload["i"] for r in records] == list(range(50))
    assert [r.seq for r in records] == list(range(1, 51))  # publish order is seq order
    assert len(deliveries) < 50  # group-committed: fewer deliveries than events
    assert [seq for group in deliveries for seq in group] == list(range(1, 51))


async def test_one_bad_publish_in_a_group_fails_only_its_caller(bus, room):
    room_h = room("h")
    outcomes = await asyncio.gather(
        bus.publish(room_h, "e", {"i": 1}),
        bus.publish(room_h, "e", {"unstorable": object()}),
        bus.publish(room_h, "e", {"i": 3}),
        return_exceptions=True)

    assert isinstance(outcomes[1], Exception)
    assert [outcomes[0].payload, outcomes[2].payload] == [{"i": 1}, {"i": 3}]
    stored = await RoomEvent.filter(room=room_h).order_by("seq").values_list("payload", flat=True)
    assert stored == [{"i": 1}, {"i": 3}]
    assert [(e.seq, e.payload) for e in bus.delivered] == [(1, {"i": 1}), (2, {"i": 3})]
