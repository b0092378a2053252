"""What the REST routes answer (the `data` of their success envelope), and the request bodies
of the routes that parse their JSON by hand. OpenAPI documents these through
`server.http.contract`; they describe the services' answers and validate nothing at runtime.

Every model forbids extra keys, so a test that checks real answers against them fails when a
service starts answering a field the document does not name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from server.services.history import HandIn, MixedIn, TournamentIn
from server.services.ratings import RatingChangeFields


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth ------------------------------------------------------------------------------------

class TokensOut(_Out):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"]
    user_id: int
    device_id: str
    expires_in: int = Field(description="seconds until the access token expires")


class LogoutOut(_Out):
    logged_out: bool
    device_id: str


class DeviceOut(_Out):
    id: int
    device_id: str
    name: str
    platform: str
    created_at: datetime
    last_seen_at: datetime
    active: bool
    current: bool = Field(description="the device the request was made from")


class DevicesOut(_Out):
    devices: list[DeviceOut]


class RevokedOut(_Out):
    revoked: bool
    id: int


# --- batch -----------------------------------------------------------------------------------

class BatchItemOk(_Out):
    id: str
    status: Literal["ok"]
    data: Any = Field(description="what the operation answers on its own")


class BatchItemError(_Out):
    id: str
    status: Literal["error"]
    code: str
    message: str
    details: Any = None


class BatchOut(_Out):
    results: list[BatchItemOk | BatchItemError] = Field(
        description="one result per operation, in the order sent")


# --- history ---------------------------------------------------------------------------------

class _Stored(_Out):
    created_at: datetime
    last_modified: int = Field(description="the sync clock tick of the last change")


class HandRecordOut(_Stored):
    hand_id: str
    game_type: str
    tournament_id: str | None
    record_json: dict[str, Any]


class TournamentRecordOut(_Stored):
    tournament_id: str
    result_json: dict[str, Any]
    rank: int | None
    chips: int | None


class MixedRecordOut(_Stored):
    record_id: str
    tournament_id: str | None
    from_game: str | None
    to_game: str
    record_json: dict[str, Any]


HistoryRecord = HandRecordOut | TournamentRecordOut | MixedRecordOut
HistoryRecordIn = HandIn | TournamentIn | MixedIn


class HistoryRecordsOut(_Out):
    records: list[HistoryRecord]


class HistoryStoredOut(RootModel[HistoryRecord | HistoryRecordsOut]):
    """The stored record, or `{records}` in the order sent when the body was `{records}`.
    The record's shape is the path's kind: hand, tournament or mixed."""


class HistoryPageOut(_Out):
    items: list[HistoryRecord] = Field(description="newest first, of the path's kind")
    next_cursor: str | None = Field(description="`cursor` for the next page; null at the end")


class HistoryRecordsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[HistoryRecordIn]


class HistoryBodyIn(RootModel[HistoryRecordIn | HistoryRecordsIn]):
    """One record, or `{records: [...]}` stored all or none. The record's shape is the
    path's kind: HandIn for hand, TournamentIn for tournament, MixedIn for mixed."""


# --- sync ------------------------------------------------------------------------------------

class TableChangesOut(_Out):
    created: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    deleted: list[str]


class SyncPullOut(_Out):
    changes: dict[str, TableChangesOut] = Field(description="per table, the changes since "
                                                            "last_pulled_at")
    timestamp: int = Field(description="the next pull's last_pulled_at")


class SyncPushOut(_Out):
    timestamp: int
    changed: int


class TableChangesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    created: list[dict[str, Any]] = Field(default_factory=list,
                                          description="records, each with its `id`")
    updated: list[dict[str, Any]] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list, description="record ids")


class SyncPushIn(RootModel[dict[str, TableChangesIn]]):
    """WatermelonDB changes: per table name, the records created, updated and deleted."""


# --- ratings ---------------------------------------------------------------------------------

class RatingOut(_Out):
    user_id: int
    rated: bool = Field(description="false until the user's first rated result")
    sr: float
    st: float
    mr: float
    mt: float
    gr: float
    st_now: float
    mt_now: float
    last_update: datetime | None
    version: int


class RatingChangeOut(RatingChangeFields, _Out):
    at: datetime | None


class RatingHistoryOut(_Out):
    items: list[RatingChangeOut] = Field(description="newest first")
    next_before: int | None = Field(description="`before` for the next page; null at the end")


class LeaderboardRowOut(_Out):
    rank: int
    user_id: int
    nickname: str
    value: float
    sr: float
    st: float
    mr: float
    mt: float
    gr: float


class LeaderboardMeOut(_Out):
    rank: int
    user_id: int
    value: float


class LeaderboardOut(_Out):
    kind: Literal["sr", "mr", "gr"]
    offset: int
    limit: int
    total: int
    items: list[LeaderboardRowOut]
    me: LeaderboardMeOut | None = Field(description="null before the caller's first rated result")


class ClaimMismatchOut(_Out):
    field: str
    claimed: float
    server: float


class ClaimVerdictOut(_Out):
    status: Literal["agrees", "disagrees", "none"]
    mismatches: list[ClaimMismatchOut]
    written: Literal[False]


class ClaimCheckOut(_Out):
    claim: ClaimVerdictOut
    change: RatingChangeOut
    rating: RatingOut


# --- tournaments -----------------------------------------------------------------------------

class TournamentPlayerOut(_Out):
    player_id: str
    name: str
    user_id: int | None


class TournamentOut(_Out):
    tournament_id: str
    name: str
    owner_id: int
    is_public: bool
    status: str
    structure: dict[str, Any]
    table_count: int
    players: list[TournamentPlayerOut]
    snapshot_version: int


class TournamentClockOut(_Out):
    started: bool
    paused: bool
    on_break: bool
    level: int
    phase: int
    game: str
    small_blind: int
    big_blind: int
    ante: int
    remaining_s: float | None
    server_time: float
    started_at: float | None
    paused_at: float | None
    paused_total: float


class TournamentResumeOut(TournamentOut):
    role: str
    clock: TournamentClockOut
    state: dict[str, Any] | None = Field(description="the last accepted snapshot's public state")
    my_player_id: str | None
    my_private: dict[str, Any] | None = Field(description="the caller's private snapshot part")
    room: str
    last_seq: int


class TournamentEventOut(_Out):
    seq: int
    event: str
    data: Any


class TournamentEventsOut(_Out):
    room: str
    events: list[TournamentEventOut]
    has_more: bool


# --- AI models -------------------------------------------------------------------------------

class AiModelMetaOut(_Out):
    version: str
    family: str
    type: str
    sha256: str
    size: int
    inputs: list[Any]
    outputs: list[Any]
    opsets: dict[str, Any]
    created_at: datetime


class AiModelOut(AiModelMetaOut):
    url: str = Field(description="a short-lived signed download URL")
    expires_at: int = Field(description="when `url` stops working, in Unix seconds")


# --- rooms and chat --------------------------------------------------------------------------

class RoomEventOut(_Out):
    event: str
    room: str
    seq: int
    data: Any


class RoomEventsOut(_Out):
    room: str
    seq: int = Field(description="the room's head when read")
    events: list[RoomEventOut]
    has_more: bool
    resync_required: bool = Field(description="true when after_seq is past retention")
    state_url: str | None = Field(None, description="where to reload state; only on resync")


class ChatMessageOut(_Out):
    id: int
    channel: str
    user_id: int
    client_msg_id: str
    body: str
    seq: int
    created_at: datetime


class ChatMessagesOut(_Out):
    channel: str
    messages: list[ChatMessageOut] = Field(description="newest first")
    has_more: bool
