import aiohttp

from tests.services import free_port


async def get(url):
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


async def test_healthz_answers(server):
    status, body = await get(server.url + "/healthz")
    assert status == 200 and body["data"]["alive"] is True


async def test_readyz_checks_database_and_redis(start_app, make_settings, db_url, redis_url):
    app = await start_app(make_settings(database_url=db_url, redis_url=redis_url))
    status, body = await get(app.url + "/readyz")
    assert status == 200
    assert body["data"]["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_when_redis_is_configured_but_down(start_app, make_settings):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    app = await start_app(make_settings(redis_url=dead_redis))
    status, body = await get(app.url + "/readyz")
    assert status == 503
    assert body["error"]["code"] == "not_ready"
    assert body["error"]["details"]["database"] == "ok"
    assert body["error"]["details"]["redis"].startswith("down")
    status, _ = await get(app.url + "/healthz")
    assert status == 200
