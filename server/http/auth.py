"""REST edge for auth: signup, login, refresh, logout, and the caller's devices."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from server import keys
from server.errors import BadInput
from server.http.auth_context import bearer_claims
from server.http.client_ip import client_ip
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import read_body
from server.http.schemas import DevicesOut, LogoutOut, RevokedOut, TokensOut
from server.services.accounts import DeviceInfo
from server.services.profile_schema import Nickname
from server.services.refresh_tokens import TokenPair

routes = web.RouteTableDef()


def _printable(value: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("control characters are not allowed")
    return value


LoginName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{3,64}$", to_lower=True)]
DeviceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")]
DeviceName = Annotated[str, StringConstraints(max_length=64, strip_whitespace=True),
                       AfterValidator(_printable)]
Platform = Literal["pwa", "ios", "android", "pc"]


class DeviceFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: DeviceId
    device_name: DeviceName = ""
    platform: Platform

    def device(self) -> DeviceInfo:
        return DeviceInfo(self.device_id, self.device_name, self.platform)


class SignupIn(DeviceFields):
    login: LoginName
    # Characters are capped loosely here; the service refuses over 72 bytes with a clear error.
    password: str = Field(min_length=8, max_length=1024)
    nickname: Nickname


class LoginIn(DeviceFields):
    login: LoginName
    # Over 72 bytes is simply a wrong password at login (it can never match).
    password: str = Field(min_length=1, max_length=4096)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=256)


def _tokens(pair: TokenPair, status: int = 200) -> web.Response:
    return respond(pair.response(time.time()), status=status,
                   headers={"Cache-Control": "no-store"})


@routes.post("/auth/signup")
@responds(TokensOut, status=201)
async def signup(request: web.Request) -> web.Response:
    body = await read_body(request, SignupIn)
    pair = await request.app[keys.SERVICES].accounts.signup(
        body.login, body.password, body.nickname, body.device())
    return _tokens(pair, status=201)


@routes.post("/auth/login")
@responds(TokensOut)
async def login(request: web.Request) -> web.Response:
    body = await read_body(request, LoginIn)
    pair = await request.app[keys.SERVICES].accounts.login(
        body.login, body.password, body.device(), client_ip(request))
    return _tokens(pair)


@routes.post("/auth/refresh")
@responds(TokensOut)
async def refresh(request: web.Request) -> web.Response:
    body = await read_body(request, RefreshIn)
    return _tokens(await request.app[keys.SERVICES].accounts.refresh(body.refresh_token))


@routes.post("/auth/logout")
@responds(LogoutOut)
async def logout(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    await request.app[keys.SERVICES].accounts.logout(claims)
    return respond({"logged_out": True, "device_id": claims.device_id})


@routes.get("/auth/devices")
@responds(DevicesOut)
async def devices(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    rows = await request.app[keys.SERVICES].accounts.devices(claims.user_id, claims.device_id)
    return respond({"devices": rows})


@routes.post("/auth/devices/{id}/revoke")
@responds(RevokedOut)
async def revoke_device(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    device_pk = path_int(request, "id")
    await request.app[keys.SERVICES].accounts.revoke_device(claims.user_id, device_pk)
    return respond({"revoked": True, "id": device_pk})


def path_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadInput(f"`{name}` must be a positive integer")
    return int(raw)
