"""Socket sessions: handshake refusal for dead sessions, expiry, and `auth:refresh`."""

import asyncio

import pytest
import socketio

from models.accounts import User
from server import keys
from tests.accounts_kit import call, login, signup


async def connect(app, token, device_id="phone-1"):
    """A connected client, or the connect_error's (message, data)."""
    client = socketio.AsyncClient(reconnection=False)
    ready = asyncio.get_running_loop().create_future()
    refused = []
    client.on("session:ready", lambda data: ready.done() or ready.set_result(data))
    client.on("connect_error", lambda *args: refused.append(args))
    try:
        await client.connect(app.url, auth={"token": token, "device_id": device_id},
                             transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return None, refused[0][0]
    await asyncio.wait_for(ready, 5)
    return client, None


async def refused_with(app, auth):
    client = socketio.AsyncClient(reconnection=False)
    refused = []
    client.on("connect_error", lambda *args: refused.append(args))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(app.url, auth=auth, transports=["websocket"], wait_timeout=5)
    return refused[0][0]


def server_session(app, user_id):
    registry = app.app[keys.REALTIME].registry
    (sid,) = registry.sids_of_user(user_id)
    return registry.get(sid)


async def test_events_after_expiry_are_refused_until_auth_refresh(server):
    name, data = await signup(server)
    client, _ = await connect(server, data["access_token"])
    try:
        ok = await client.call("system:ping", {"nonce": "1"}, timeout=5)
        assert ok["status"] == "ok"
        server_session(server, data["user_id"]).expires_at = 0  # the token's exp has passed

        refused = await client.call("system:ping", {"nonce": "2"}, timeout=5)
        assert refused["error"]["code"] == "auth_expired"

        # A token of another user or another device does not renew this socket.
        _, other = await signup(server)
        wrong_user = await client.call("auth:refresh", {"token": other["access_token"]}, timeout=5)
        assert wrong_user["error"]["code"] == "unauthorized"
        laptop = (await login(server, name, device_id="laptop")).data
        wrong_device = await client.call("auth:refresh", {"token": laptop["access_token"]}, timeout=5)
        assert wrong_device["error"]["code"] == "unauthorized"
        garbage = await client.call("auth:refresh", {"token": "x.y.z"}, timeout=5)
        assert garbage["error"]["code"] == "unauthorized"
        bad_shape = await client.call("auth:refresh", {"token": "t", "extra": 1}, timeout=5)
        assert bad_shape["error"]["code"] == "bad_input"
        assert (await client.call("system:ping", {}, timeout=5))["error"]["code"] == "auth_expired"

        fresh = (await call(server, "POST", "/auth/refresh",
                            json={"refresh_token": data["refresh_token"]})).data
        renewed = await client.call("auth:refresh", {"token": fresh["access_token"]}, timeout=5)
        assert renewed["status"] == "ok"
        assert renewed["data"]["expires_at"] == server_session(server, data["user_id"]).expires_at
        assert (await client.call("system:ping", {"nonce": "3"}, timeout=5))["status"] == "ok"
    finally:
        await client.disconnect()


async def test_a_deleted_users_token_cannot_connect(server):
    _, data = await signup(server)
    await User.filter(id=data["user_id"]).delete()
    client, error = await connect(server, data["access_token"])
    assert client is None
    assert error == {"message": "unauthorized",
                     "data": {"code": "unauthorized", "message": "unknown account or device"}}


async def test_a_signed_out_devices_token_cannot_connect(server):
    _, data = await signup(server)
    assert (await call(server, "POST", "/auth/logout", token=data["access_token"])).status == 200
    client, error = await connect(server, data["access_token"])
    assert client is None
    assert error["message"] == "session_revoked" and error["data"]["code"] == "session_revoked"


async def test_logout_disconnects_the_devices_live_socket(server):
    _, data = await signup(server)
    client, _ = await connect(server, data["access_token"])
    gone = asyncio.get_running_loop().create_future()
    client.on("disconnect", lambda *reason: gone.done() or gone.set_result(reason))
    revoked = asyncio.get_running_loop().create_future()
    client.on("session:revoked", lambda msg: revoked.done() or revoked.set_result(msg))
    assert (await call(server, "POST", "/auth/logout", token=data["access_token"])).status == 200
    message = await asyncio.wait_for(revoked, 5)
    await asyncio.wait_for(gone, 5)
    assert message["data"]["device_id"] == "phone-1" and message["data"]["reason"] == "logout"
    assert server.app[keys.REALTIME].registry.sids_of_user(data["user_id"]) == []


async def test_refresh_token_reuse_disconnects_the_device(server):
    from datetime import timedelta

    from models.accounts import RefreshToken
    from server.services.refresh_tokens import token_hash

    _, data = await signup(server)
    client, _ = await connect(server, data["access_token"])
    gone = asyncio.get_running_loop().create_future()
    client.on("disconnect", lambda *reason: gone.done() or gone.set_result(reason))
    await call(server, "POST", "/auth/refresh", json={"refresh_token": data["refresh_token"]})
    row = await RefreshToken.get(token_hash=token_hash(data["refresh_token"]))
    await RefreshToken.filter(id=row.id).update(used_at=row.used_at - timedelta(minutes=5))
    reused = await call(server, "POST", "/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert reused.code == "refresh_reused"
    await asyncio.wait_for(gone, 5)


@pytest.mark.parametrize("auth", [None, "token", {"device_id": "x"}, {"token": 5}])
async def test_malformed_handshake_auth_is_unauthorized(sqlite_server, auth):
    error = await refused_with(sqlite_server, auth)
    assert error["message"] == "unauthorized" and error["data"]["code"] == "unauthorized"
