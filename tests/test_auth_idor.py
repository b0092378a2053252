"""Every accounts route that takes an id, called with another user's token: refused, unchanged."""

from models.accounts import Device, User, UserSettings
from tests.accounts_kit import call, login, signup


async def test_revoking_another_users_device_is_not_found_and_changes_nothing(server):
    _, alice = await signup(server)
    _, mallory = await signup(server)
    alice_device = await Device.get(user_id=alice["user_id"])

    reply = await call(server, "POST", f"/auth/devices/{alice_device.id}/revoke",
                       token=mallory["access_token"])
    assert (reply.status, reply.code) == (404, "not_found")
    after = await Device.get(id=alice_device.id)
    assert after.revoked_at is None and after.session_generation == alice_device.session_generation
    assert (await call(server, "GET", "/auth/devices", token=alice["access_token"])).status == 200


async def test_device_listing_shows_only_the_callers_devices(server):
    alice_name, _ = await signup(server)
    await login(server, alice_name, device_id="alice-laptop")
    _, mallory = await signup(server, device_id="mallory-phone")
    listing = await call(server, "GET", "/auth/devices", token=mallory["access_token"])
    assert [d["device_id"] for d in listing.data["devices"]] == ["mallory-phone"]


async def test_reading_another_users_profile_is_forbidden(server):
    _, alice = await signup(server)
    _, mallory = await signup(server)
    reply = await call(server, "GET", f"/user/{alice['user_id']}", token=mallory["access_token"])
    assert (reply.status, reply.code) == (403, "forbidden")
    assert reply.data is None


async def test_an_admin_may_read_another_users_profile(server):
    _, alice = await signup(server)
    _, admin = await signup(server)
    await User.filter(id=admin["user_id"]).update(is_admin=True)
    reply = await call(server, "GET", f"/user/{alice['user_id']}", token=admin["access_token"])
    assert reply.status == 200 and reply.data["user_id"] == alice["user_id"]


async def test_an_admin_still_may_not_change_another_users_profile(server):
    _, alice = await signup(server)
    _, admin = await signup(server)
    await User.filter(id=admin["user_id"]).update(is_admin=True)
    reply = await call(server, "POST", f"/user/{alice['user_id']}", token=admin["access_token"],
                       json={"version": 1, "nickname": "pwned"})
    assert (reply.status, reply.code) == (403, "forbidden")
    assert (await User.get(id=alice["user_id"])).nickname == "Ada"


async def test_changing_another_users_profile_or_settings_is_forbidden_and_changes_nothing(server):
    _, alice = await signup(server)
    _, mallory = await signup(server)
    for method in ("POST", "PATCH"):
        for body in ({"version": 1, "nickname": "pwned", "country": "JP"},
                     {"settings": {"version": 1, "theme": "dark"}}):
            reply = await call(server, method, f"/user/{alice['user_id']}",
                               token=mallory["access_token"], json=body)
            assert (reply.status, reply.code) == (403, "forbidden")
    user = await User.get(id=alice["user_id"])
    settings = await UserSettings.get(user_id=alice["user_id"])
    assert (user.nickname, user.country, user.version) == ("Ada", None, 1)
    assert (settings.theme, settings.version) == ("classic", 1)


async def test_unknown_user_id_is_forbidden_for_a_normal_user(server):
    _, mallory = await signup(server)
    reply = await call(server, "GET", "/user/987654321", token=mallory["access_token"])
    assert reply.status == 403
