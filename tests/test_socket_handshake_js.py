"""Browser compatibility: the official JavaScript socket.io client, websocket and polling."""

import pytest

from tests.factories import create_user
from tests.jsclient import run_node

pytestmark = pytest.mark.usefixtures("node_ready")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_js_client_connects_receives_event_and_gets_ack(sqlite_server, transport):
    # The handshake checks that the account and device exist: a real user, not just a token.
    user = await create_user(sqlite_server, device_id="js-test")
    result = await run_node("handshake.mjs", sqlite_server.url, user.token, transport)

    assert "connect_error" not in result, result
    assert result["engine_transport"] == transport
    assert result["ready"]["user_id"] == user.id
    assert result["ready"]["device_id"] == "js-test"
    ack = result["ack"]
    assert ack["status"] == "ok"
    assert ack["data"]["nonce"] == "n-1" and ack["data"]["user_id"] == user.id
    bad = result["bad_ack"]
    assert bad["status"] == "error" and bad["error"]["code"] == "bad_input"
    assert {d["loc"] for d in bad["error"]["details"]} == {"nonce", "extra"}


@pytest.mark.parametrize("token", ["not-a-jwt", ""])
async def test_js_client_with_bad_token_gets_clear_connect_error(sqlite_server, token):
    result = await run_node("handshake.mjs", sqlite_server.url, token, "websocket")

    assert result["connect_error"]["message"] == "unauthorized"
    assert result["connect_error"]["data"]["code"] == "unauthorized"


async def test_js_client_with_expired_token_is_told_so(sqlite_server):
    token, _ = sqlite_server.services.tokens.issue_access(42, "js-test", now=1_000_000)
    result = await run_node("handshake.mjs", sqlite_server.url, token, "polling")

    assert result["connect_error"]["message"] == "auth_expired"
