"""Helpers for the accounts suites: REST calls with headers, and signing up through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

PASSWORD = "correct horse battery"


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: Any

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


async def call(app: Any, method: str, path: str, *, token: str | None = None, json: Any = None,
               headers: dict[str, str] | None = None) -> Reply:
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as http:
        async with http.request(method, app.url + "/api/v1" + path, json=json,
                                headers=all_headers) as resp:
            return Reply(resp.status, await resp.json(), resp.headers)


def unique_login() -> str:
    return f"p_{uuid.uuid4().hex[:12]}"


def device(device_id: str = "phone-1", platform: str = "ios") -> dict[str, str]:
    return {"device_id": device_id, "device_name": "My phone", "platform": platform}


async def signup(app: Any, login: str | None = None, *, device_id: str = "phone-1",
                 password: str = PASSWORD) -> tuple[str, dict[str, Any]]:
    """Sign up through the API: (login, token response data)."""
    login = login or unique_login()
    reply = await call(app, "POST", "/auth/signup", json={
        "login": login, "password": password, "nickname": "Ada", **device(device_id)})
    assert reply.status == 201, reply.body
    return login, reply.data


async def login(app: Any, login_name: str, *, device_id: str = "phone-1",
                password: str = PASSWORD, headers: dict[str, str] | None = None) -> Reply:
    return await call(app, "POST", "/auth/login", headers=headers, json={
        "login": login_name, "password": password, **device(device_id)})
