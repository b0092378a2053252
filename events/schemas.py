"""The Socket.IO contract in the other direction: what the server sends.

`SERVER_EVENTS` names every server→client event and the model of what it carries; `REPLIES`
names the `data` of the ack envelope each client→server event answers with. They describe the
payloads the services and the realtime layer build (tests validate real traffic against them,
so a payload that changes shape without its model fails) and feed the TypeScript types
(`scripts/gen_ts_types.py` → `ServerToClientEvents`, `ClientToServerEvents`).

Room events (anything published through the event bus) arrive as `{room, seq, data}` with
`data` in the model named here; the few direct emits (`session:ready`, …) carry the model as is.
Every model refuses unknown keys, so a field added on the server must be added here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.json_schema import SkipJsonSchema

from events.bench import BenchFields
from server.services.console import ConsoleState
from server.services.ratings import RatingChangeFields
from server.services.tournament.structure import Game, Structure


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- sessions ---------------------------------------------------------------------------------

class SessionReadyData(Payload):
    user_id: int
    device_id: str
    expires_at: int
    instance: str


class SessionClosingData(Payload):
    reason: Literal["slow_consumer", "shutdown"]


class SessionRevokedData(Payload):
    device_id: str
    reason: Literal["logout", "revoked", "refresh_reused"]
    generation: int


class ResyncRequiredData(Payload):
    room: str
    seq: int
    state_url: str


# -- accounts and sync --------------------------------------------------------------------------

class ProfileUpdateData(Payload):
    user_id: int
    nickname: str
    avatar: str | None
    country: str | None
    version: int
    device_id: str  # the device that made the change


class SettingsUpdateData(Payload):
    user_id: int
    se_on: bool
    bgm_on: bool
    theme: str
    card_skin: str
    version: int
    device_id: str


class SyncPokeData(Payload):
    clock: int  # pull when your last pull's clock is below this


class PresenceData(Payload):
    user_id: int


# -- chat ------------------------------------------------------------------------------------------

class ChatMessageData(Payload):
    """`chat:message`: the message's seq is the room event's own `seq`."""

    id: int
    channel: str
    user_id: int
    client_msg_id: str
    body: str
    created_at: str


class ChatMessageView(ChatMessageData):
    seq: int


# -- ratings ---------------------------------------------------------------------------------------

class RatingChangeView(RatingChangeFields, Payload):
    at: str


class RatingView(Payload):
    user_id: int
    rated: bool
    sr: float
    st: float
    mr: float
    mt: float
    gr: float
    st_now: float
    mt_now: float
    last_update: str | None
    version: int


class RatingUpdateData(Payload):
    user_id: int
    change: RatingChangeView
    rating: RatingView


# -- models ----------------------------------------------------------------------------------------

class ModelUpdateData(Payload):
    family: str
    version: str
    type: Literal["per_game", "multi_head", "pro"]
    sha256: str
    size: int
    model_update_required: bool
    reason: Literal["connect", "publish", "rollback"]  # `connect`: you hold an older version


# -- tournaments -----------------------------------------------------------------------------------

class EntrantView(Payload):
    player_id: str
    name: str


class TournamentCreatedData(Payload):
    tournament_id: str
    name: str
    structure: Structure
    table_count: int
    players: list[EntrantView]


class ClockData(Payload):
    """`clock:start`, `clock:pause`, `clock:resume`: the server clock as read at `server_time`."""

    started: bool
    paused: bool
    on_break: bool
    level: int
    phase: int
    game: Game
    small_blind: int
    big_blind: int
    ante: int
    remaining_s: float | None
    server_time: float
    started_at: float | None
    paused_at: float | None
    paused_total: float


class SeatView(Payload):
    player_id: str
    table: int
    seat: int
    stack: int


class PlaceView(Payload):
    player_id: str
    place: int


class TournamentPublicState(Payload):
    version: int
    level: int
    game: Game
    small_blind: int
    big_blind: int
    ante: int
    table_count: int
    on_break: bool
    final_table: bool
    total_chips: int
    players: list[SeatView]
    eliminated: list[PlaceView]


class TournamentUpdateData(Payload):
    tournament_id: str
    state: TournamentPublicState


class TournamentPrivateData(Payload):
    """Sent to the player's own `user_<id>` room only."""

    tournament_id: str
    version: int
    player_id: str
    private: dict[str, JsonValue]


class FinalTableData(Payload):
    tournament_id: str
    players: int


class BreakStartData(Payload):
    tournament_id: str
    after_level: int
    duration_s: int
    phase: int


class BreakEndData(Payload):
    tournament_id: str
    phase: int


class LevelUpData(Payload):
    tournament_id: str
    level: int
    phase: int
    small_blind: int
    big_blind: int
    ante: int
    duration_s: int
    game: Game


class GameSwitchData(Payload):
    tournament_id: str
    level: int
    from_game: Game = Field(alias="from")
    to: Game


class SeatMoveView(Payload):
    player_id: str
    from_table: int
    from_seat: int
    to_table: int
    to_seat: int


class TournamentBalanceData(Payload):
    tournament_id: str
    version: int
    moves: list[SeatMoveView]
    broken_tables: list[int]


class ResultView(Payload):
    player_id: str
    user_id: int | None
    place: int
    chips: int


class TournamentFinishedData(Payload):
    tournament_id: str
    results: list[ResultView]
    finished_at: float


# -- the catalogue ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerEvent:
    name: str
    data: type[BaseModel]
    room_event: bool  # arrives as {room, seq, data}; otherwise the model is the whole payload


SERVER_EVENTS: list[ServerEvent] = [
    ServerEvent("session:ready", SessionReadyData, room_event=False),
    ServerEvent("session:closing", SessionClosingData, room_event=False),
    ServerEvent("resync_required", ResyncRequiredData, room_event=False),
    ServerEvent("console:state", ConsoleState, room_event=False),
    ServerEvent("session:revoked", SessionRevokedData, room_event=True),
    ServerEvent("profile:update", ProfileUpdateData, room_event=True),
    ServerEvent("settings:update", SettingsUpdateData, room_event=True),
    ServerEvent("sync:poke", SyncPokeData, room_event=True),
    ServerEvent("presence:join", PresenceData, room_event=True),
    ServerEvent("presence:leave", PresenceData, room_event=True),
    ServerEvent("chat:message", ChatMessageData, room_event=True),
    ServerEvent("rating:update", RatingUpdateData, room_event=True),
    # Also sent straight to a connecting socket that holds an older version (`reason: connect`),
    # in the same shape with the family room's current seq.
    ServerEvent("model:update", ModelUpdateData, room_event=True),
    ServerEvent("tournament:created", TournamentCreatedData, room_event=True),
    ServerEvent("clock:start", ClockData, room_event=True),
    ServerEvent("clock:pause", ClockData, room_event=True),
    ServerEvent("clock:resume", ClockData, room_event=True),
    ServerEvent("tournament:update", TournamentUpdateData, room_event=True),
    ServerEvent("tournament:private", TournamentPrivateData, room_event=True),
    ServerEvent("final_table", FinalTableData, room_event=True),
    ServerEvent("break:start", BreakStartData, room_event=True),
    ServerEvent("break:end", BreakEndData, room_event=True),
    ServerEvent("level:up", LevelUpData, room_event=True),
    ServerEvent("game:switch", GameSwitchData, room_event=True),
    ServerEvent("tournament:balance", TournamentBalanceData, room_event=True),
    ServerEvent("tournament:finished", TournamentFinishedData, room_event=True),
    ServerEvent("bench:state", BenchFields, room_event=True),  # only with BENCH_ROOM set
]


class RoomEventWire(Payload):
    """How a room event arrives: its room, its seq in that room, and its data."""

    room: str
    seq: int
    data: JsonValue


# -- ack replies: the `data` of `{"status": "ok", "data": …}` --------------------------------------

class PingReply(Payload):
    pong: bool
    nonce: str | None
    user_id: int
    server_time: float


class AuthRefreshReply(Payload):
    expires_at: int


class JoinReply(Payload):
    room: str
    seq: int  # the room's seq after anything replayed: live events continue from here
    replayed: int
    resync_required: bool
    # User ids in the room; absent when the socket was a member already. (The skipped None
    # only lets the model say "absent": the key is never null.)
    present: list[int] | SkipJsonSchema[None] = None


class LeaveReply(Payload):
    room: str
    left: bool


class LoggedEvent(Payload):
    event: str
    room: str
    seq: int
    data: JsonValue


class ReplayReply(Payload):
    room: str
    seq: int
    events: list[LoggedEvent]
    has_more: bool
    resync_required: bool
    state_url: str | SkipJsonSchema[None] = None  # only with resync_required


class ChatSendReply(Payload):
    ack: Literal["saved"]
    duplicate: bool
    message: ChatMessageView


class ConsoleSubscribeReply(Payload):
    room: str
    interval_s: float


REPLIES: dict[str, type[BaseModel]] = {
    "system:ping": PingReply,
    "auth:refresh": AuthRefreshReply,
    "room:join": JoinReply,
    "room:leave": LeaveReply,
    "room:replay": ReplayReply,
    "chat:send": ChatSendReply,
    "tournament:join": JoinReply,
    "tournament:leave": LeaveReply,
    "console:subscribe": ConsoleSubscribeReply,
    "console:unsubscribe": LeaveReply,
}


class ErrorBody(Payload):
    code: str
    message: str
    details: JsonValue = None
