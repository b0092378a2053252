"""Refresh tokens: rotation on every use, family reuse detection, the grace window, races."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.accounts import RefreshToken
from server.services.refresh_tokens import token_hash, unseal
from tests.accounts_kit import call, signup


async def refresh(app, token):
    return await call(app, "POST", "/auth/refresh", json={"refresh_token": token})


async def age_used_token(token: str, seconds: int) -> None:
    """Move a used token's use into the past, past or within the grace window."""
    row = await RefreshToken.get(token_hash=token_hash(token))
    await RefreshToken.filter(id=row.id).update(used_at=row.used_at - timedelta(seconds=seconds))


async def test_refresh_rotates_the_token_on_every_use(server):
    _, first = await signup(server)
    second = await refresh(server, first["refresh_token"])
    assert second.status == 200, second.body
    assert second.data["refresh_token"] != first["refresh_token"]
    assert second.data["user_id"] == first["user_id"] and second.data["expires_in"] > 0
    third = await refresh(server, second.data["refresh_token"])
    assert third.status == 200

    rows = await RefreshToken.filter(user_id=first["user_id"]).order_by("id")
    assert len(rows) == 3 and len({r.family_id for r in rows}) == 1
    assert [r.used_at is not None for r in rows] == [True, True, False]
    # Once the successor is rotated, nothing sealed is kept for the first token.
    assert rows[0].successor_sealed is None and rows[1].successor_sealed is not None
    assert (await call(server, "GET", "/auth/devices", token=third.data["access_token"])).status == 200


async def test_reused_refresh_token_revokes_the_family_and_the_device_session(server):
    _, first = await signup(server)
    second = (await refresh(server, first["refresh_token"])).data
    await age_used_token(first["refresh_token"], server.settings.refresh_grace_seconds + 1)

    reused = await refresh(server, first["refresh_token"])
    assert (reused.status, reused.code) == (401, "refresh_reused")
    # The thief's (or the victim's) newer token is dead too, and so is the device's access.
    assert (await refresh(server, second["refresh_token"])).status == 401
    assert await RefreshToken.filter(user_id=first["user_id"], revoked_at=None).count() == 0
    assert (await call(server, "GET", "/auth/devices",
                       token=second["access_token"])).code == "session_revoked"


async def test_reuse_within_the_grace_window_returns_the_same_pair(server):
    _, first = await signup(server)
    lost = (await refresh(server, first["refresh_token"])).data  # the client never saw this
    retried = await refresh(server, first["refresh_token"])
    assert retried.status == 200
    assert retried.data["refresh_token"] == lost["refresh_token"]
    assert retried.data["access_token"] == lost["access_token"]
    assert await RefreshToken.filter(user_id=first["user_id"]).count() == 2  # nothing new issued
    # The family is intact: the pair works as usual.
    assert (await refresh(server, lost["refresh_token"])).status == 200


async def test_grace_ends_once_the_successor_was_used(server):
    _, first = await signup(server)
    second = (await refresh(server, first["refresh_token"])).data
    assert (await refresh(server, second["refresh_token"])).status == 200
    # The client clearly got `second`: a replay of `first` now is theft, even inside the window.
    reused = await refresh(server, first["refresh_token"])
    assert (reused.status, reused.code) == (401, "refresh_reused")


async def test_grace_window_of_zero_treats_every_reuse_as_theft(start_app, make_settings):
    app = await start_app(make_settings(refresh_grace_seconds=0))
    _, first = await signup(app)
    assert (await refresh(app, first["refresh_token"])).status == 200
    await age_used_token(first["refresh_token"], 1)
    assert (await refresh(app, first["refresh_token"])).code == "refresh_reused"


async def test_the_sealed_successor_opens_only_with_the_old_token(server):
    _, first = await signup(server)
    second = (await refresh(server, first["refresh_token"])).data
    row = await RefreshToken.get(token_hash=token_hash(first["refresh_token"]))
    assert second["refresh_token"] not in row.successor_sealed
    assert unseal("some-other-token", row.successor_sealed, row.user_id, "phone-1") is None
    opened = unseal(first["refresh_token"], row.successor_sealed, row.user_id, "phone-1")
    assert opened.refresh_token == second["refresh_token"]


async def test_concurrent_refresh_of_one_token_yields_one_pair(server):
    _, first = await signup(server)
    replies = await asyncio.gather(*(refresh(server, first["refresh_token"]) for _ in range(4)))
    assert [r.status for r in replies] == [200] * 4, [r.body for r in replies]
    assert len({r.data["refresh_token"] for r in replies}) == 1
    assert await RefreshToken.filter(user_id=first["user_id"]).count() == 2


async def test_concurrent_refresh_without_grace_has_one_winner_and_revokes_the_family(
        start_app, make_settings, db_url):
    app = await start_app(make_settings(database_url=db_url, refresh_grace_seconds=0))
    _, first = await signup(app)
    a, b = await asyncio.gather(refresh(app, first["refresh_token"]),
                                refresh(app, first["refresh_token"]))
    assert sorted([a.status, b.status]) == [200, 401], (a.body, b.body)
    loser = a if a.status == 401 else b
    assert loser.code == "refresh_reused"
    assert await RefreshToken.filter(user_id=first["user_id"]).count() == 2
    assert await RefreshToken.filter(user_id=first["user_id"], revoked_at=None).count() == 0


@pytest.mark.parametrize("token", ["", "garbage", "x" * 257, None, 12345, ["a"]])
async def test_malformed_or_unknown_refresh_tokens_are_refused(sqlite_server, token):
    reply = await refresh(sqlite_server, token)
    assert reply.status in (401, 422) and reply.body["status"] == "error"
    assert reply.code in ("unauthorized", "validation_failed")


async def test_an_expired_refresh_token_is_refused(server):
    _, first = await signup(server)
    await RefreshToken.filter(token_hash=token_hash(first["refresh_token"])).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1))
    reply = await refresh(server, first["refresh_token"])
    assert (reply.status, reply.code) == (401, "unauthorized")
    assert "expired" in reply.body["error"]["message"]
