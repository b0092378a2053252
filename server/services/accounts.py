"""Accounts: signup, login, refresh, logout, devices, and the profile/settings of a user.

Every session change (logout, device revoke, refresh-token reuse) bumps the device's session
generation, revokes its refresh families and publishes `session:revoked` to the user's room,
so live sockets of that device are closed on whichever instance holds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.accounts import Device, User, UserSettings
from server.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    validation_details,
)
from server.services.applied_ops import apply_once
from server.services.batch import BatchCall
from server.services.event_bus import EventBus, Publication
from server.services.limits import Limits
from server.services.passwords import MAX_PASSWORD_BYTES, PasswordHasher, too_long
from server.services.refresh_tokens import RefreshReused, RefreshTokens, TokenPair
from server.services.settings_schema import SettingsChange
from server.services.sync_clock import next_tick
from server.services.sync_poke import SyncPoker
from server.services.tokens import AccessClaims

SETTINGS_FIELDS = ("se_on", "bgm_on", "theme", "card_skin")
PROFILE_FIELDS = ("nickname", "avatar", "country")


def user_room(user_id: int) -> str:
    return f"user_{user_id}"


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    name: str
    platform: str


@dataclass(frozen=True)
class ProfileChange:
    """Fields to change. Each part carries the version the client last saw (If-Match)."""

    version: int | None = None
    profile: dict[str, Any] | None = None
    settings_version: int | None = None
    settings: dict[str, Any] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _settings_view(row: UserSettings) -> dict[str, Any]:
    return {**{f: getattr(row, f) for f in SETTINGS_FIELDS}, "version": row.version}


async def publish_settings(tx: Publication, user_id: int, device_id: str) -> dict[str, Any]:
    """Tell every device of the user the settings as they now stand; returns them."""
    row = await UserSettings.get(user_id=user_id).using_db(tx.db)
    view = _settings_view(row)
    await tx.publish(user_room(user_id), "settings:update",
                     {"user_id": user_id, **view, "device_id": device_id})
    return view


def _profile_view(user: User) -> dict[str, Any]:
    return {"user_id": user.id, **{f: getattr(user, f) for f in PROFILE_FIELDS},
            "version": user.version}


async def publish_profile(tx: Publication, user_id: int, device_id: str) -> User:
    """Tell every device of the user the profile as it now stands; returns the user."""
    user = await User.get(id=user_id).using_db(tx.db)
    await tx.publish(user_room(user_id), "profile:update",
                     {**_profile_view(user), "device_id": device_id})
    return user


class AccountService:
    def __init__(self, bus: EventBus, refresh: RefreshTokens, passwords: PasswordHasher,
                 limits: Limits, poker: SyncPoker):
        self.bus = bus
        self.poker = poker
        self.refresh_tokens = refresh
        self.passwords = passwords
        self.limits = limits

    # --- sessions -------------------------------------------------------------------------

    async def signup(self, login: str, password: str, nickname: str, device: DeviceInfo) -> TokenPair:
        if too_long(password):
            raise ValidationFailed(
                f"the password is longer than {MAX_PASSWORD_BYTES} bytes",
                details=[{"loc": "password", "msg": f"at most {MAX_PASSWORD_BYTES} bytes (UTF-8)"}])
        password_hash = await self.passwords.hash(password)
        try:
            async with in_transaction() as db:
                user = await User.create(login=login, password_hash=password_hash,
                                         nickname=nickname, using_db=db)
                await UserSettings.create(user=user, using_db=db)
                row = await Device.create(user=user, device_id=device.device_id, name=device.name,
                                          platform=device.platform, using_db=db)
                return await self.refresh_tokens.start_family(db, user.id, row)
        except IntegrityError as exc:
            raise Conflict("this login is taken") from exc

    async def login(self, login: str, password: str, device: DeviceInfo, ip: str) -> TokenPair:
        """Password login, behind the per-account and per-address lockout."""
        await self.limits.check_login(login, ip)
        user = await User.get_or_none(login=login)
        if not await self.passwords.verify(password, user.password_hash if user else None):
            await self.limits.login_failed(login, ip)
            raise Unauthorized("wrong login or password", code="bad_credentials")
        assert user is not None
        await self.limits.login_succeeded(login)
        try:
            return await self._open_device_session(user, device)
        except IntegrityError:
            # A concurrent login registered this device first: the second pass finds it.
            return await self._open_device_session(user, device)

    async def _open_device_session(self, user: User, device: DeviceInfo) -> TokenPair:
        async with in_transaction() as db:
            row = await Device.get_or_none(user_id=user.id, device_id=device.device_id).using_db(db)
            if row is None:
                row = await Device.create(user=user, device_id=device.device_id, name=device.name,
                                          platform=device.platform, using_db=db)
            else:
                # One live session per device: a new login ends the device's older families.
                await self.refresh_tokens.revoke_device(db, row.id)
                row.name, row.platform, row.revoked_at = device.name, device.platform, None
                await row.save(using_db=db, update_fields=["name", "platform", "revoked_at",
                                                           "last_seen_at"])
            return await self.refresh_tokens.start_family(db, user.id, row)

    async def refresh(self, refresh_token: object) -> TokenPair:
        try:
            return await self.refresh_tokens.rotate(refresh_token)
        except RefreshReused as reused:
            await self._end_device_session(reused.user_id, reused.device.id, "refresh_reused")
            raise

    async def logout(self, claims: AccessClaims) -> None:
        row = await Device.get_or_none(user_id=claims.user_id, device_id=claims.device_id)
        if row is None:
            raise Unauthorized("unknown device")
        await self._end_device_session(claims.user_id, row.id, "logout")

    async def verify_session(self, claims: AccessClaims) -> None:
        """The account still exists, and the token's device is neither revoked nor signed out
        since the token was issued."""
        row = await Device.get_or_none(user_id=claims.user_id, device_id=claims.device_id) \
            .values("revoked_at", "session_generation")
        if row is None:
            raise Unauthorized("unknown account or device")
        if row["revoked_at"] is not None or row["session_generation"] != claims.generation:
            raise Unauthorized("this device was signed out: log in again", code="session_revoked")

    async def _end_device_session(self, user_id: int, device_pk: int, reason: str) -> None:
        async with self.bus.transaction() as tx:
            await Device.filter(id=device_pk).using_db(tx.db).update(
                revoked_at=_now(), session_generation=F("session_generation") + 1)
            row = await Device.get(id=device_pk).using_db(tx.db)
            await self.refresh_tokens.revoke_device(tx.db, device_pk)
            # Sockets of this device below `generation` are closed; a fresh login is not.
            await tx.publish(user_room(user_id), "session:revoked",
                             {"device_id": row.device_id, "reason": reason,
                              "generation": row.session_generation})

    # --- devices --------------------------------------------------------------------------

    async def devices(self, user_id: int, current_device_id: str) -> list[dict[str, Any]]:
        rows = await Device.filter(user_id=user_id).order_by("id")
        return [{"id": d.id, "device_id": d.device_id, "name": d.name, "platform": d.platform,
                 "created_at": d.created_at, "last_seen_at": d.last_seen_at,
                 "active": d.revoked_at is None, "current": d.device_id == current_device_id}
                for d in rows]

    async def revoke_device(self, user_id: int, device_pk: int) -> None:
        """Sign a device of this user out everywhere; another user's device is `not_found`."""
        if not await Device.filter(id=device_pk, user_id=user_id).exists():
            raise NotFound("no such device")
        await self._end_device_session(user_id, device_pk, "revoked")

    # --- profile and settings -------------------------------------------------------------

    async def profile(self, viewer_id: int, user_id: int) -> dict[str, Any]:
        """A user's profile and settings, for that user or an admin."""
        if viewer_id != user_id and not await User.filter(id=viewer_id, is_admin=True).exists():
            raise Forbidden("you may only read your own profile")
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise NotFound("no such user")
        settings, _ = await UserSettings.get_or_create(user_id=user_id)
        return {**_profile_view(user), "created_at": user.created_at,
                "settings": _settings_view(settings)}

    async def update_profile(self, caller_id: int, device_id: str, user_id: int,
                             change: ProfileChange) -> dict[str, Any]:
        """Apply a change if each part's version is current (else 409, nothing changed), and
        push `profile:update` / `settings:update` to every device of the user."""
        if caller_id != user_id:
            raise Forbidden("you may only change your own profile")
        async with self.bus.transaction() as tx:
            user = await User.get_or_none(id=user_id).using_db(tx.db)
            if user is None:
                raise NotFound("no such user")
            # One tick stamps every part this change writes, so devices pull it.
            tick = await next_tick(tx.db) if change.profile or change.settings else None
            if change.profile:
                assert tick is not None
                updated = await User.filter(id=user_id, version=change.version).using_db(tx.db) \
                    .update(**change.profile, version=F("version") + 1, updated_at=_now(),
                            last_modified=tick, changed_by_device="")
                if not updated:
                    raise Conflict(f"the profile is at version {user.version}: reload and retry",
                                   details={"current_version": user.version})
                user = await publish_profile(tx, user_id, device_id)
            settings, _ = await UserSettings.get_or_create(user_id=user_id, using_db=tx.db)
            view = _settings_view(settings)
            if change.settings:
                assert tick is not None
                if not await _write_settings(tx, user_id, change.settings, tick,
                                             expected_version=change.settings_version):
                    raise Conflict(
                        f"the settings are at version {settings.version}: reload and retry",
                        details={"current_settings_version": settings.version})
                view = await publish_settings(tx, user_id, device_id)
        if tick is not None:
            self.poker.changed(user_id, tick)
        return {**_profile_view(user), "created_at": user.created_at, "settings": view}

    async def apply_queued_settings(self, call: BatchCall, data: Any) -> dict[str, Any]:
        """The batch op `settings`: a change queued offline, applied once per client id.

        It carries no version: each field it names overwrites the current value (the last
        writer wins per field), the version rises and every device hears `settings:update`.
        """
        try:
            change = SettingsChange.model_validate(data).changes()
        except ValidationError as exc:
            raise ValidationFailed(details=validation_details(exc)) from exc
        if not change:
            raise ValidationFailed("nothing to change", code="nothing_to_change")
        ticks: list[int] = []

        async def apply(tx: Publication) -> dict[str, Any]:
            await UserSettings.get_or_create(user_id=call.user_id, using_db=tx.db)
            ticks.append(await next_tick(tx.db))
            await _write_settings(tx, call.user_id, change, ticks[0])
            return await publish_settings(tx, call.user_id, call.device_id)

        view, applied = await apply_once(self.bus, call, "settings", apply)
        if applied:
            self.poker.changed(call.user_id, ticks[0])
        return view  # type: ignore[no-any-return]


async def _write_settings(tx: Publication, user_id: int, change: dict[str, Any], tick: int, *,
                          expected_version: int | None = None) -> bool:
    """Write the fields and bump the version; False when `expected_version` is not current.

    Stamped with the sync clock and no device, so every device pulls the change.
    """
    query = UserSettings.filter(user_id=user_id)
    if expected_version is not None:
        query = query.filter(version=expected_version)
    updated = await query.using_db(tx.db).update(
        **change, version=F("version") + 1, updated_at=_now(), last_modified=tick,
        changed_by_device="")
    return bool(updated)


async def settings_pushed(tx: Publication, user_id: int, device_id: str) -> None:
    """A sync push changed the user's settings: the version rises (so a REST write made
    against the old one is a conflict) and every device hears `settings:update`."""
    await UserSettings.filter(user_id=user_id).using_db(tx.db).update(
        version=F("version") + 1, updated_at=_now())
    await publish_settings(tx, user_id, device_id)


async def profile_pushed(tx: Publication, user_id: int, device_id: str) -> None:
    """A sync push changed the user's profile: the version rises (so a REST write made
    against the old one is a conflict) and every device hears `profile:update`."""
    await User.filter(id=user_id).using_db(tx.db).update(
        version=F("version") + 1, updated_at=_now())
    await publish_profile(tx, user_id, device_id)


def settings_batch_handler(service: AccountService) -> Any:
    """The `POST /batch` operation `settings` (see AccountService.apply_queued_settings)."""
    return service.apply_queued_settings
