"""The wire contract at the HTTP edge: every failure is an envelope with the right status."""

import aiohttp
import pytest
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.http.envelope import respond
from server.http.inputs import read_body


class EchoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=10)
    count: int


async def echo(request: web.Request) -> web.Response:
    body = await read_body(request, EchoIn)
    return respond({"name": body.name, "count": body.count})


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internal detail /etc/passwd")


def add_probe_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/_probe/echo", echo)
    app.router.add_get("/api/v1/_probe/boom", boom)


@pytest.fixture
async def app(start_app, make_settings):
    return await start_app(make_settings(max_body_bytes=2048), prepare=add_probe_routes)


async def call(app, method, path, **kw):
    async with aiohttp.ClientSession() as http, http.request(method, app.url + path, **kw) as resp:
        return resp.status, await resp.json(), resp.headers


async def test_valid_body_is_answered_in_the_ok_envelope(app):
    status, body, _ = await call(app, "POST", "/api/v1/_probe/echo", json={"name": "a", "count": 2})
    assert status == 200 and body == {"status": "ok", "data": {"name": "a", "count": 2}}


@pytest.mark.parametrize("data, headers, status, code", [
    (b"{not json", {"Content-Type": "application/json"}, 400, "bad_input"),
    (b"", {"Content-Type": "application/json"}, 400, "bad_input"),
    (b'{"name": "a", "count": 1}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    (b'{"name": "a", "count": "many"}', {"Content-Type": "application/json"}, 422, "validation_failed"),
    (b'{"name": 5, "count": 1}', {"Content-Type": "application/json"}, 422, "validation_failed"),
    (b'{"name": "a", "count": 1, "admin": true}', {"Content-Type": "application/json"}, 422, "validation_failed"),
    (b'[1, 2]', {"Content-Type": "application/json"}, 422, "validation_failed"),
    (b'{"name": "' + b"x" * 4096 + b'", "count": 1}', {"Content-Type": "application/json"}, 413, "payload_too_large"),
])
async def test_bad_bodies_get_error_envelopes(app, data, headers, status, code):
    got_status, body, _ = await call(app, "POST", "/api/v1/_probe/echo", data=data, headers=headers)
    assert got_status == status
    assert body["status"] == "error" and body["error"]["code"] == code
    assert body["error"]["message"]


async def test_validation_errors_name_the_fields_without_echoing_input(app):
    _, body, _ = await call(app, "POST", "/api/v1/_probe/echo", json={"name": "n" * 11, "count": "x"})
    locs = {d["loc"] for d in body["error"]["details"]}
    assert locs == {"name", "count"}
    assert "nnnnnnnnnnn" not in str(body)


async def test_unknown_route_and_wrong_method_are_envelopes(app):
    status, body, _ = await call(app, "GET", "/api/v1/no/such/route")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body, _ = await call(app, "DELETE", "/api/v1/_probe/echo")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")


async def test_internal_errors_never_leak_details(app):
    status, body, _ = await call(app, "GET", "/api/v1/_probe/boom")
    assert status == 500
    assert body == {"status": "error", "error": {"code": "internal", "message": "internal error"}}
