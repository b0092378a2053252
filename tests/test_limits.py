"""Login lockout and per-address REST limits: in memory (the default) and in real Redis."""

import uuid

import pytest
from aiohttp.test_utils import make_mocked_request

from server import keys
from server.http.client_ip import client_ip
from tests.accounts_kit import call, login, signup, unique_login


@pytest.fixture(params=["memory", "redis"])
def limits_settings(request, make_settings):
    """Settings for one backend; each Redis test gets a key prefix of its own."""

    def make(**overrides):
        if request.param == "redis":
            url = request.getfixturevalue("redis_url")
            prefix = f"{request.getfixturevalue('redis_prefix')}_{uuid.uuid4().hex[:8]}"
            overrides = {"redis_url": url, "redis_prefix": prefix, **overrides}
        return make_settings(**overrides)

    make.backend = request.param
    return make


async def test_account_lockout_after_five_failures_even_with_the_right_password(
        start_app, limits_settings):
    app = await start_app(limits_settings())
    assert app.services.limits.backend == limits_settings.backend
    name, _ = await signup(app)
    for _ in range(5):
        assert (await login(app, name, password="wrong password")).code == "bad_credentials"
    locked = await login(app, name)
    assert (locked.status, locked.code) == (429, "rate_limited")
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    # Another account from the same address is not locked by it.
    other, _ = await signup(app)
    assert (await login(app, other)).status == 200


async def test_a_successful_login_clears_the_accounts_failures(start_app, limits_settings):
    app = await start_app(limits_settings())
    name, _ = await signup(app)
    for _ in range(4):
        await login(app, name, password="wrong password")
    assert (await login(app, name)).status == 200
    for _ in range(4):
        await login(app, name, password="wrong password")
    assert (await login(app, name)).status == 200


async def test_address_lockout_after_ten_failures_across_accounts(start_app, limits_settings):
    app = await start_app(limits_settings())
    name, _ = await signup(app)
    for _ in range(10):
        assert (await login(app, unique_login(), password="guess guess")).status == 401
    locked = await login(app, name)
    assert (locked.status, locked.code) == (429, "rate_limited")
    assert int(locked.headers["Retry-After"]) >= 1


async def test_lockout_is_shared_by_instances_through_redis(start_app, make_settings, redis_url,
                                                            redis_prefix):
    prefix = f"{redis_prefix}_{uuid.uuid4().hex[:8]}"
    a = await start_app(make_settings(redis_url=redis_url, redis_prefix=prefix))
    b = await start_app(make_settings(redis_url=redis_url, redis_prefix=prefix))
    name, _ = await signup(a)
    for _ in range(5):
        await login(a, name, password="wrong password")
    assert (await login(b, name)).status == 429
    keys_found = [k async for k in a.app[keys.REDIS].scan_iter(match=f"{prefix}:limits*")]
    assert keys_found, "the lockout counters live under the configured prefix"


async def test_rest_requests_are_limited_per_address(start_app, limits_settings):
    app = await start_app(limits_settings(rest_ip_limit="5/minute"))
    replies = [await call(app, "GET", "/auth/devices") for _ in range(6)]
    assert [r.status for r in replies] == [401] * 5 + [429]
    assert replies[-1].code == "rate_limited" and int(replies[-1].headers["Retry-After"]) >= 1
    # Health checks are not API calls and stay reachable.
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(app.url + "/healthz") as resp:
        assert resp.status == 200


async def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(start_app,
                                                                            limits_settings):
    app = await start_app(limits_settings(rest_ip_limit="3/minute"))
    statuses = [(await call(app, "GET", "/auth/devices",
                            headers={"X-Forwarded-For": f"203.0.113.{i}"})).status
                for i in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(start_app,
                                                                             limits_settings):
    app = await start_app(limits_settings(rest_ip_limit="2/minute", trusted_proxies="127.0.0.1/32"))
    for client in ("203.0.113.1", "203.0.113.2"):
        statuses = [(await call(app, "GET", "/auth/devices",
                                headers={"X-Forwarded-For": client})).status for _ in range(3)]
        assert statuses == [401, 401, 429], client


async def test_an_unreachable_redis_fails_the_lockout_closed_and_other_routes_open(
        start_app, make_settings):
    from tests.services import free_port

    app = await start_app(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    reply = await login(app, unique_login())
    assert (reply.status, reply.code) == (503, "unavailable")
    # The per-address REST limit lets requests through rather than take the API down.
    assert (await call(app, "GET", "/auth/devices")).status == 401


def _request(app_settings, peer, forwarded=None):
    from aiohttp import web

    app = web.Application()
    app[keys.SETTINGS] = app_settings
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("GET", "/", headers=headers, app=app)
    return request.clone(remote=peer)


@pytest.mark.parametrize("trusted, peer, forwarded, expected", [
    ("", "198.51.100.7", None, "198.51.100.7"),
    ("", "198.51.100.7", "1.2.3.4", "198.51.100.7"),  # not a trusted proxy: header ignored
    ("10.0.0.0/8", "10.0.0.5", "1.2.3.4", "1.2.3.4"),
    ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client's own claim ignored
    ("10.0.0.0/8", "10.0.0.5", "1.2.3.4, 10.0.0.9", "1.2.3.4"),  # two trusted hops
    ("10.0.0.0/8", "10.0.0.5", "not-an-ip, 1.2.3.4", "1.2.3.4"),
    ("10.0.0.0/8", "10.0.0.5", "1.2.3.4, garbage", "10.0.0.5"),
    ("10.0.0.0/8", "10.0.0.5", None, "10.0.0.5"),
    ("10.0.0.0/8, ::1", "::1", "2001:db8::1", "2001:db8::1"),
])
def test_client_ip_trusts_forwarded_for_only_from_configured_proxies(make_settings, trusted,
                                                                      peer, forwarded, expected):
    settings = make_settings(trusted_proxies=trusted)
    assert client_ip(_request(settings, peer, forwarded)) == expected


def test_bad_trusted_proxy_config_fails_at_start(make_settings):
    with pytest.raises(ValueError):
        make_settings(trusted_proxies="10.0.0.0/8, not-a-network")
