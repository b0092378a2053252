"""The REST API against its own OpenAPI document: the document is valid 3.1 and fuzzing it
(schemathesis, bounded) never gets a 5xx."""

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from tests.apiclient import api
from tests.factories import create_user
from tests.services import ROOT

ARTIFACTS = ROOT / "test-artifacts"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, resp.headers["Content-Type"], await resp.text()


async def test_openapi_document_describes_the_routes_and_their_schemas(server):
    status, ctype, _ = await fetch(server.url + "/openapi.json")
    assert status == 200 and ctype.startswith("application/json")
    async with aiohttp.ClientSession() as http, http.get(server.url + "/openapi.json") as resp:
        spec = await resp.json()
    assert spec["openapi"] == "3.1.0"
    signup = spec["paths"]["/api/v1/auth/signup"]["post"]
    body_ref = signup["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False  # extra="forbid" carried through
    history = spec["paths"]["/api/v1/history/{kind}"]["get"]
    names = {(p["name"], p["in"]) for p in history["parameters"]}
    assert ("kind", "path") in names and ("limit", "query") in names
    from openapi_spec_validator import validate
    validate(spec)


async def test_docs_page_is_served_locally(server):
    status, ctype, html = await fetch(server.url + "/docs")
    assert status == 200 and ctype.startswith("text/html")
    assert "/openapi.json" in html and "http://" not in html and "https://" not in html


async def test_schemathesis_finds_no_server_error(start_app, make_settings, pg_url, redis_url):
    # The per-address limit would answer 429 to most of the fuzzing: raised for this run only.
    app = await start_app(make_settings(database_url=pg_url, redis_url=redis_url,
                                        rest_ip_limit="100000/minute"))
    user = await create_user(app)
    report = ARTIFACTS / "schemathesis"
    report.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", app.url + "/openapi.json",
        "--checks", "not_a_server_error", "--max-examples", "5", "--max-time", "50", "--warnings", "off",
        # The coverage phase trips a hypothesis-internal error on Python 3.11 (not a finding).
        "--phases", "examples,fuzzing,stateful",
        # These would revoke the token the rest of the run authenticates with.
        "--exclude-path-regex", "/auth/(logout|devices/.*/revoke)$",
        "--seed", "11", "--workers", "2", "--request-timeout", "10",
        "--header", f"Authorization: Bearer {user.token}",
        "--report", "junit", "--report-junit-path", str(report / "junit.xml"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""})
    out, _ = await asyncio.wait_for(proc.communicate(), 150)
    text = out.decode()
    (report / "summary.txt").write_text(text)
    assert proc.returncode == 0, f"exit {proc.returncode}: {text[-3000:]}"
    assert "Server error" not in text and " passed" in text


async def test_an_overlong_tournament_id_is_not_found_rather_than_a_server_error(start_app, make_settings,
                                                                                  pg_url):
    # Found by the fuzzing above: PostgreSQL refused a path id longer than the column.
    app = await start_app(make_settings(database_url=pg_url))
    user = await create_user(app)
    status, body = await api(app, "GET", "/tournament/resume/" + "t" * 40, user=user)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _ = await api(app, "GET", "/tournament/" + "t" * 40 + "/events", user=user)
    assert status == 404
    status, body = await api(app, "POST", "/tournament/" + "t" * 40 + "/clock", user=user,
                             json={"action": "start"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = await api(app, "POST", "/tournament/snapshot", user=user, json={
        "tournament_id": "t" * 40, "version": 1, "level": 1, "small_blind": 1, "big_blind": 2,
        "table_count": 1, "player_stacks": [], "eliminated_players": []})
    assert status == 404 and body["error"]["code"] == "not_found"
