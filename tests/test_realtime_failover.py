"""Nothing lost when an instance dies or Redis goes away while events keep flowing."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager

import aiohttp
import pytest

from models.realtime import RoomEvent
from server import keys
from tests.factories import create_user
from tests.room_followers import Followers
from tests.services import ROOT, free_port

JWT_SECRET = "test-secret-" + "x" * 40  # the make_settings default, so tokens work on every instance


async def logged(room: str) -> list[int]:
    return list(await RoomEvent.filter(room=room).order_by("seq").values_list("seq", flat=True))


async def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{url} did not come up")
            await asyncio.sleep(0.1)


@contextmanager
def server_process(tmp_path, pg_url, redis_url, redis_prefix):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": redis_url,
           "REDIS_PREFIX": redis_prefix, "PORT": str(port), "JWT_SECRET": JWT_SECRET,
           "VAR_DIR": str(tmp_path / "proc-var"), "ENV": "test", "LOG_LEVEL": "WARNING",
           "INSTANCE_ID": "doomed"}
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


class OwnRedis:
    """A redis-server of this test's own, so it can be killed and restarted safely."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
async def own_redis():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not on PATH")
    redis = OwnRedis()
    await redis.start()
    yield redis
    if redis.proc is not None and redis.proc.poll() is None:
        redis.kill()


async def test_clients_of_a_killed_instance_resume_on_the_other_without_loss(
        start_app, make_settings, pg_url, redis_url, redis_prefix, node_ready, tmp_path):
    b = await start_app(make_settings(database_url=pg_url, redis_url=redis_url,
                                      redis_prefix=redis_prefix, instance_id="b"))
    user = await create_user(b)
    room = f"user_{user.id}"
    with server_process(tmp_path, pg_url, redis_url, redis_prefix) as (proc, a_url):
        await wait_http(a_url)
        followers = await Followers.start(urls=[a_url, b.url], tokens=[user.token] * 3,
                                          rooms=[room], until="test:end", until_rooms=[room])
        for i in range(150):
            await b.services.bus.publish(room, "table:update", {"i": i})
            if i == 50:
                proc.send_signal(signal.SIGKILL)  # abrupt: no goodbye to its clients
            await asyncio.sleep(0.005)
        await b.services.bus.publish(room, "test:end", {})
        result = await followers.result()
    assert proc.returncode == -signal.SIGKILL
    assert not result["timed_out"], result
    expected = await logged(room)
    assert len(expected) == 151
    for client in result["clients"]:
        started_on_a = client["index"] % 2 == 0  # followers spread over [A, B] by index
        assert client["switches"] >= (1 if started_on_a else 0)
        assert client["rooms"][room]["seqs"] == expected
        assert client["duplicates"] == 0


async def test_events_committed_while_redis_is_down_reach_members_when_it_returns(
        start_app, make_settings, pg_url, redis_prefix, node_ready, own_redis):
    # No periodic gap check here: only the reconnect must bring the missed events.
    a, b = [await start_app(make_settings(database_url=pg_url, redis_url=own_redis.url,
                                          redis_prefix=redis_prefix, instance_id=name,
                                          gap_check_interval=3600)) for name in ("a", "b")]
    user = await create_user(a)
    room = f"user_{user.id}"
    followers = await Followers.start(urls=[a.url], tokens=[user.token] * 2, rooms=[room],
                                      until="test:end", until_rooms=[room])
    for i in range(30):
        await b.services.bus.publish(room, "table:update", {"i": i})
    own_redis.kill()
    for i in range(30, 60):
        # Still committed, and the business action does not wait for Redis.
        await asyncio.wait_for(b.services.bus.publish(room, "table:update", {"i": i}), 1.0)
    await own_redis.start()
    for i in range(60, 90):
        await b.services.bus.publish(room, "table:update", {"i": i})
        await asyncio.sleep(0.01)
    await b.services.bus.publish(room, "test:end", {})
    result = await followers.result()
    assert not result["timed_out"], result
    expected = await logged(room)
    assert len(expected) == 91
    for client in result["clients"]:
        assert client["rooms"][room]["seqs"] == expected
        assert client["duplicates"] == 0 and client["switches"] == 0
    assert b.app[keys.REALTIME].core.fanout.publish_failures > 0
    assert a.app[keys.REALTIME].core.delivery.gap_filled > 0
