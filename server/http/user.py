"""REST edge for profiles: `GET /user/{id}`, `POST /user/{id}` (and PATCH, same body)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, model_validator

from server import keys
from server.errors import Forbidden
from server.http.auth import path_int
from server.http.auth_context import bearer_claims
from server.http.envelope import respond
from server.http.inputs import read_body
from server.services.accounts import ProfileChange
from server.services.profile_schema import Avatar, Country, Nickname
from server.services.settings_schema import SettingsIn, Version

__all__ = ["ProfileIn", "SettingsIn", "routes"]

routes = web.RouteTableDef()


class ProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Version | None = None
    nickname: Nickname | None = None
    avatar: Avatar | None = None  # null clears it
    country: Country | None = None  # null clears it
    settings: SettingsIn | None = None

    def profile_changes(self) -> dict[str, object]:
        fields = self.model_fields_set & {"nickname", "avatar", "country"}
        return {name: getattr(self, name) for name in fields}

    @model_validator(mode="after")
    def _check(self) -> ProfileIn:
        if "nickname" in self.model_fields_set and self.nickname is None:
            raise ValueError("nickname cannot be null")
        if self.profile_changes() and self.version is None:
            raise ValueError("send the profile `version` you last read with a profile change")
        if not self.profile_changes() and not (self.settings and self.settings.changes()):
            raise ValueError("nothing to change")
        return self


@routes.get("/user/{id}")
async def get_user(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    profile = await request.app[keys.SERVICES].accounts.profile(claims.user_id,
                                                                path_int(request, "id"))
    return respond(profile)


async def _update_user(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    user_id = path_int(request, "id")
    # Authorize before reading the body: another user's id learns nothing about validation.
    if user_id != claims.user_id:
        raise Forbidden("you may only change your own profile")
    body = await read_body(request, ProfileIn)
    change = ProfileChange(
        version=body.version, profile=body.profile_changes() or None,
        settings_version=body.settings.version if body.settings else None,
        settings=(body.settings.changes() or None) if body.settings else None)
    profile = await request.app[keys.SERVICES].accounts.update_profile(
        claims.user_id, claims.device_id, user_id, change)
    return respond(profile)


routes.post("/user/{id}")(_update_user)
routes.patch("/user/{id}")(_update_user)
