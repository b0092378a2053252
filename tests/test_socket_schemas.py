"""What the server really sends over Socket.IO matches `events.schemas`, event by event.

One scenario drives most of the domain through REST and sockets (a tournament from creation
through a break, a game switch, private cards, a table balance and the finish with ratings; chat;
profile and settings; a history push; a signed-out device; model publishes; the console) while
every socket keeps all it receives. Each received event must be named in `SERVER_EVENTS` and
validate against its model, and each ack against its `REPLIES` model (or `ErrorBody`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel

from events import all_events
from events.schemas import REPLIES, SERVER_EVENTS, ErrorBody, RoomEventWire
from models.accounts import Device
from tests.accounts_kit import call
from tests.apiclient import api
from tests.factories import create_user
from tests.socket_capture import CapturingSocket
from tests.test_console import publish_model
from tests.tournament_kit import FakeClock, SnapshotBook, structure

BY_NAME = {event.name: event for event in SERVER_EVENTS}


def check_event(name: str, payload: Any) -> None:
    spec = BY_NAME.get(name)
    assert spec is not None, f"{name} is sent but not described in events.schemas"
    if spec.room_event:
        payload = RoomEventWire.model_validate(payload).data
    spec.data.model_validate(payload)


class CheckedSocket(CapturingSocket):
    """Validates every ack it receives against the event's reply model."""

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        answer = await super().call(event, data)
        if answer["status"] == "ok":
            REPLIES[event].model_validate(answer["data"])
        else:
            assert set(answer) == {"status", "error"}
            ErrorBody.model_validate(answer["error"])
        return answer


async def ok(socket: CheckedSocket, event: str, data: Any = None) -> dict[str, Any]:
    answer = await socket.call(event, data)
    assert answer["status"] == "ok", (event, answer)
    return answer["data"]


def test_every_client_event_has_a_reply_model():
    assert {spec.name for spec in all_events()} <= set(REPLIES)


def test_every_model_refuses_unknown_keys():
    """So a field the server starts sending fails the scenario below until it is described."""
    models: list[type[BaseModel]] = [e.data for e in SERVER_EVENTS if e.name != "bench:state"]
    for model in [*models, *REPLIES.values()]:
        assert model.model_config.get("extra") == "forbid", model.__name__


async def test_real_traffic_validates_against_the_event_schemas(start_app, make_settings):
    app = await start_app(make_settings(console_interval=0.2, sync_poke_debounce=0.05,
                                        presence_leave_grace=0))  # so presence:leave is seen
    fake = FakeClock(time.time())
    app.services.tournaments.now = fake
    admin = await create_user(app, is_admin=True)
    ann = await create_user(app, nickname="Ann")
    bob = await create_user(app, nickname="Bob")
    await Device.create(user_id=ann.id, device_id="dev-2", name="tablet", platform="ios")
    tablet_token = app.access_token(ann.id, "dev-2")
    family = "pro" + uuid.uuid4().hex[:8]
    await publish_model(app, admin, family, f"{family}_v1")

    sockets: list[CheckedSocket] = []

    async def connect(token: str, device_id: str = "dev-1", **auth: Any) -> CheckedSocket:
        socket = await CheckedSocket.connect(app, token, device_id, **auth)
        sockets.append(socket)
        return socket

    try:
        ann_socket = await connect(ann.token, models={family: f"{family}_v0"})
        bob_socket = await connect(bob.token)
        await connect(tablet_token, "dev-2")  # ann's second device, signed out below
        console = await connect(admin.token)
        await ok(console, "console:subscribe")
        await ok(ann_socket, "system:ping", {"nonce": "n-1"})
        await ok(ann_socket, "auth:refresh", {"token": app.access_token(ann.id, "dev-1")})

        # A tournament: two players with accounts, two bots, two tables, a break after level 1
        # and a game switch at level 2.
        spec = structure([(10, 20, 0, "nlh"), (20, 40, 5, "plo"), (30, 60, 5, "plo")],
                          breaks={1: 300})
        status, reply = await api(app, "POST", "/tournament/create", user=admin, json={
            "name": "Schema cup", "structure": spec, "table_count": 2,
            "players": [{"player_id": "ann", "user_id": ann.id, "name": "Ann"},
                        {"player_id": "bob", "user_id": bob.id, "name": "Bob"},
                        {"player_id": "cy", "name": "Cy"}, {"player_id": "dee", "name": "Dee"}]})
        assert status == 201, reply
        tid = reply["data"]["tournament_id"]
        room = f"tournament_{tid}"
        book = SnapshotBook(tid, spec, {"ann": (1, 1), "bob": (1, 2), "cy": (2, 1),
                                        "dee": (2, 2)}, table_count=2)
        await ok(ann_socket, "tournament:join", {"tournament_id": tid, "last_seq": 0})
        await ok(bob_socket, "room:join", {"room": room})
        await ok(bob_socket, "room:join", {"room": room})  # already a member: no `present`
        await ok(ann_socket, "room:replay", {"room": room, "after_seq": 0})
        refused = await bob_socket.call("room:join", {"room": "tournament_nope"})
        assert refused["error"]["code"] == "forbidden"

        for action in ("start", "pause", "resume"):
            status, reply = await api(app, "POST", f"/tournament/{tid}/clock", user=admin,
                                      json={"action": action})
            assert status == 200, reply
        fake.advance(601)
        await app.services.tournaments.advance_due_clocks()
        fake.advance(301)
        await app.services.tournaments.advance_due_clocks()
        book.level = 2

        first = book.body()
        first["player_stacks"][0]["private"] = {"cards": ["Ah", "Kd"], "notes": None}
        status, reply = await api(app, "POST", "/tournament/snapshot", user=admin, json=first)
        assert status == 200, reply
        book.version += 1
        [balance] = await ann_socket.wait_for("tournament:balance")  # four fit at one table
        book.apply_moves(balance["data"]["moves"], balance["data"]["broken_tables"])
        book.table_count = 1
        status, reply = await book.submit(app, admin)  # the final table
        assert status == 200, reply
        await ok(ann_socket, "chat:send", {"channel": room, "client_msg_id": "m-1",
                                           "body": "nice hand"})
        await ok(ann_socket, "chat:send", {"channel": room, "client_msg_id": "m-1",
                                           "body": "nice hand"})  # a resend: duplicate
        for loser in ("dee", "cy", "bob"):
            book.bust(loser, "ann")
        status, reply = await book.submit(app, admin)
        assert status == 200 and reply["data"]["status"] == "finished", reply
        await ok(bob_socket, "tournament:leave", {"tournament_id": tid})
        await ok(ann_socket, "room:leave", {"room": room})

        # Accounts and sync: profile and settings, a history push, a device signed out.
        reply = await call(app, "PATCH", f"/user/{ann.id}", token=ann.token,
                           json={"version": 1, "nickname": "Annie",
                                 "settings": {"version": 1, "theme": "dark"}})
        assert reply.status == 200, reply.body
        status, reply = await api(app, "POST", "/history/hand", user=ann, json={
            "hand_id": "h-1", "game_type": "nlh", "record_json": {"pot": 40}})
        assert status in (200, 201), reply
        reply = await call(app, "POST", "/auth/logout", token=tablet_token)
        assert reply.status == 200, reply.body

        await publish_model(app, admin, family, f"{family}_v2")
        await ok(console, "console:unsubscribe")

        for name in ("tournament:finished", "settings:update", "profile:update", "sync:poke",
                     "session:revoked"):
            await ann_socket.wait_for(name)
        await ann_socket.wait_for("model:update", 2)
        await ann_socket.wait_for("rating:update")
        await bob_socket.wait_for("rating:update")
        await console.wait_for("console:state")
    finally:
        for socket in sockets:
            if socket.client.connected:
                await socket.close()

    seen: set[str] = set()
    for socket in sockets:
        for name, payload in socket.received:
            check_event(name, payload)
            seen.add(name)
    assert seen >= {
        "session:ready", "console:state", "session:revoked", "profile:update", "settings:update",
        "sync:poke", "presence:join", "presence:leave", "chat:message", "rating:update",
        "model:update", "tournament:created", "clock:start", "clock:pause", "clock:resume",
        "tournament:update", "tournament:private", "final_table", "break:start", "break:end",
        "level:up", "game:switch", "tournament:balance", "tournament:finished"}, seen
    reasons = {payload["data"]["reason"] for payload in sockets[0].events("model:update")}
    assert reasons == {"connect", "publish"}


def test_a_payload_that_drifts_from_its_model_is_caught():
    chat = {"room": "table_1", "seq": 3, "data": {
        "id": 1, "channel": "table_1", "user_id": 7, "client_msg_id": "c-1", "body": "hi",
        "created_at": "2026-01-01T00:00:00Z"}}
    check_event("chat:message", chat)
    for broken in ({**chat["data"], "mood": "happy"}, {**chat["data"], "user_id": "seven"},
                   {k: v for k, v in chat["data"].items() if k != "body"}):
        try:
            check_event("chat:message", {**chat, "data": broken})
        except ValueError:
            continue
        raise AssertionError(f"accepted {broken}")
    try:
        check_event("chat:typing", {"room": "table_1", "seq": 4, "data": {}})
    except AssertionError as err:
        assert "not described" in str(err)
    else:
        raise AssertionError("an undescribed event passed")
