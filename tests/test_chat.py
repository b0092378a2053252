"""Table chat: acks, idempotent resend, limits, channel privacy, paginated history."""

import uuid

import aiohttp
import pytest

from models.realtime import ChatMessage, RoomEvent
from tests.factories import create_user
from tests.jsclient import run_node


async def _open_tables(user_id: int, room_id: str) -> bool:
    return True


@pytest.fixture
async def chat_app(server):
    server.services.rooms.register_kind("table", _open_tables)
    return server


@pytest.fixture
def channel():
    return f"table_{uuid.uuid4().hex[:10]}"


async def test_send_is_acked_saved_once_and_errors_carry_a_reason(start_app, make_settings,
                                                                  pg_url, node_ready, channel):
    app = await start_app(make_settings(database_url=pg_url, chat_max_length=100))
    app.services.rooms.register_kind("table", _open_tables)
    sender, listener, other = [await create_user(app) for _ in range(3)]
    result = await run_node("chat.mjs", app.url, sender.token, listener.token, channel,
                            f"user_{other.id}")
    saved = result["saved"]
    assert saved["status"] == "ok" and saved["data"]["ack"] == "saved"
    message = saved["data"]["message"]
    assert message["body"] == "hello table" and message["user_id"] == sender.id
    assert message["client_msg_id"] == "c-1" and message["created_at"].endswith("Z")
    assert saved["data"]["duplicate"] is False
    resent = result["resent"]["data"]
    assert resent["duplicate"] is True and resent["message"] == message
    assert result["second"]["data"]["message"]["id"] > message["id"]
    assert result["blank"]["error"]["code"] == "bad_input"
    assert result["too_long"]["error"]["code"] == "bad_input"
    assert result["bad_id"]["error"]["code"] == "bad_input"
    assert result["extra"]["error"]["code"] == "bad_input"
    assert result["private"]["error"]["code"] == "forbidden"
    # Stored once each, and delivered as room events carrying their seq.
    rows = await ChatMessage.filter(channel=channel).order_by("id")
    assert [r.client_msg_id for r in rows] == ["c-1", "c-2"]
    assert await ChatMessage.filter(channel=f"user_{other.id}").count() == 0
    heard = result["heard"]
    assert [h["data"]["body"] for h in heard] == ["hello table", "second"]
    assert [h["seq"] for h in heard] == [r.seq for r in rows]
    assert heard[0]["seq"] == message["seq"]
    events = await RoomEvent.filter(room=channel, event="chat:message").count()
    assert events == 2


async def test_history_pages_newest_first_with_has_more(chat_app, channel):
    user = await create_user(chat_app)
    for i in range(7):
        await chat_app.services.chat.send(user.id, channel, f"m{i}", f"message {i}")
    url = f"{chat_app.url}/api/v1/chat/{channel}/messages"
    async with aiohttp.ClientSession(headers=user.headers) as http:
        async with http.get(url, params={"limit": "3"}) as resp:
            page1 = (await resp.json())["data"]
        async with http.get(url, params={"limit": "3", "before": str(page1["messages"][-1]["id"])}) as resp:
            page2 = (await resp.json())["data"]
        async with http.get(url, params={"limit": "3", "before": str(page2["messages"][-1]["id"])}) as resp:
            page3 = (await resp.json())["data"]
    bodies = [[m["body"] for m in p["messages"]] for p in (page1, page2, page3)]
    assert bodies == [["message 6", "message 5", "message 4"],
                      ["message 3", "message 2", "message 1"], ["message 0"]]
    assert [p["has_more"] for p in (page1, page2, page3)] == [True, True, False]


async def test_history_of_another_users_private_channel_is_refused(chat_app):
    owner = await create_user(chat_app)
    stranger = await create_user(chat_app)
    await chat_app.services.chat.send(owner.id, f"user_{owner.id}", "note", "to myself")
    async with aiohttp.ClientSession() as http:
        url = f"{chat_app.url}/api/v1/chat/user_{owner.id}/messages"
        async with http.get(url, headers=stranger.headers) as resp:
            assert resp.status == 403
            assert (await resp.json())["error"]["code"] == "forbidden"
        async with http.get(url, headers=owner.headers) as resp:
            assert [m["body"] for m in (await resp.json())["data"]["messages"]] == ["to myself"]
        async with http.get(url) as resp:
            assert resp.status == 401


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "201"}, {"before": "x"},
                                   {"before": "-1"}, {"page": "2"}])
async def test_history_refuses_bad_queries(chat_app, channel, query):
    user = await create_user(chat_app)
    url = f"{chat_app.url}/api/v1/chat/{channel}/messages"
    async with aiohttp.ClientSession(headers=user.headers) as http, http.get(url, params=query) as resp:
        assert resp.status == 422


async def test_history_refuses_a_malformed_or_unknown_channel(chat_app):
    user = await create_user(chat_app)
    async with aiohttp.ClientSession(headers=user.headers) as http:
        async with http.get(f"{chat_app.url}/api/v1/chat/DROP%20TABLE/messages") as resp:
            assert resp.status == 422
        async with http.get(f"{chat_app.url}/api/v1/chat/chess_1/messages") as resp:
            assert resp.status == 403
