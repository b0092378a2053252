"""/metrics: scraped and parsed like Prometheus would, values tied to what the test did."""

import json
import uuid

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from server.logs import configure_logging
from tests.apiclient import api
from tests.factories import create_user
from tests.jsclient import run_node
from tests.room_followers import Followers


async def _open_tables(user_id: int, room_id: str) -> bool:
    return True


async def scrape(app) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(app.url + "/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def total(samples, name, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


async def test_metrics_count_what_the_realtime_core_and_rest_did(start_app, make_settings, pg_url,
                                                                 redis_url, node_ready):
    app = await start_app(make_settings(database_url=pg_url, redis_url=redis_url,
                                        rest_ip_limit="8/minute"))
    app.services.rooms.register_kind("table", _open_tables)
    user = await create_user(app)
    room = f"table_{uuid.uuid4().hex[:8]}"
    before = await scrape(app)
    assert value(before, "feltsync_socket_connections") == 0
    assert value(before, "feltsync_events_published_total") == 0

    for i in range(3):
        await app.services.bus.publish(room, "table:update", {"i": i})
    # Joining with last_seq 1 is a resume: seqs 2 and 3 are replayed, then live events follow.
    followers = await Followers.start(urls=[app.url], tokens=[user.token], rooms=[room],
                                      last_seq={room: 1}, until="test:end", until_rooms=[room])
    during = await scrape(app)
    assert value(during, "feltsync_socket_connections") == 1
    assert value(during, "feltsync_rooms_active") >= 1
    assert value(during, "feltsync_resumes_total") == 1
    assert value(during, "feltsync_events_replayed_total") == 2
    for i in range(2):
        await app.services.bus.publish(room, "table:update", {"i": 3 + i})
    await app.services.bus.publish(room, "test:end", {})
    outcome = await followers.result()
    seqs = outcome["clients"][0]["rooms"][room]["seqs"]
    assert seqs[:2] == [2, 3] and seqs == list(range(2, seqs[-1] + 1))
    live = len(seqs) - 2

    statuses = [(await api(app, "GET", f"/user/{user.id}", user=user))[0] for _ in range(12)]
    assert 429 in statuses
    after = await scrape(app)
    # Every event of the room was committed here (joins add presence events of their own).
    assert value(after, "feltsync_events_published_total") >= seqs[-1]
    assert value(after, "feltsync_events_delivered_total") >= live  # the replay is counted apart
    assert value(after, "feltsync_delivery_failures_total") == 0
    assert value(after, "feltsync_event_publish_to_deliver_seconds_count") == value(
        after, "feltsync_events_delivered_total") + value(after, "feltsync_events_gap_filled_total")
    assert value(after, "feltsync_fanout_connected") == 1
    assert value(after, "feltsync_rate_limit_hits_total", scope="rest") == statuses.count(429)
    ok_count = total(after, "feltsync_http_request_duration_seconds_count",
                     route="/api/v1/user/{id}", status="200", method="GET")
    assert ok_count == statuses.count(200) > 0  # labelled by the route template, not the id
    assert total(after, "feltsync_http_request_duration_seconds_count",
                 route="/api/v1/user/{id}", status="429") == statuses.count(429)


async def test_socket_rate_limit_hits_are_counted(start_app, make_settings, node_ready):
    app = await start_app(make_settings(socket_event_rate=5, socket_event_burst=10))
    app.services.rooms.register_kind("table", _open_tables)
    user = await create_user(app)
    result = await run_node("abuse.mjs", app.url, user.token, f"table_{uuid.uuid4().hex[:8]}", "30")
    limited = result["flood_codes"].count("rate_limited")
    assert limited > 0
    samples = await scrape(app)
    assert value(samples, "feltsync_rate_limit_hits_total", scope="socket") == limited


async def test_two_instances_in_one_process_keep_separate_metrics(start_app, make_settings):
    first = await start_app(make_settings())
    second = await start_app(make_settings())
    for _ in range(3):
        await api(first, "GET", "/auth/devices")
    a, b = await scrape(first), await scrape(second)
    assert total(a, "feltsync_http_request_duration_seconds_count", route="/api/v1/auth/devices") == 3
    assert total(b, "feltsync_http_request_duration_seconds_count", route="/api/v1/auth/devices") == 0


async def test_json_access_log_lines_carry_the_request_id(start_app, make_settings, capsys):
    app = await start_app(make_settings())
    configure_logging("DEBUG", json_logs=True)
    try:
        status, _ = await api(app, "GET", "/auth/devices",
                              headers={"X-Request-Id": "req-abc123"})
        async with aiohttp.ClientSession() as http, http.get(app.url + "/healthz") as resp:
            generated = resp.headers["X-Request-Id"]
    finally:
        configure_logging("WARNING", json_logs=False)
    assert status == 401
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = {line["request_id"]: line for line in lines if line.get("event") == "request"}
    assert access["req-abc123"]["route"] == "/api/v1/auth/devices" and access["req-abc123"]["status"] == 401
    assert access[generated]["route"] == "/healthz" and access[generated]["status"] == 200
