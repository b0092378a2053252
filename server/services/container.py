"""The services one app instance uses, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from server.services.accounts import AccountService, settings_batch_handler
from server.services.ai_models import AiModelService
from server.services.batch import BatchService
from server.services.chat import ChatService
from server.services.console import ConsoleService
from server.services.event_bus import EventBus
from server.services.history import KINDS, HistoryService, batch_handlers
from server.services.limits import Limits
from server.services.passwords import PasswordHasher
from server.services.ratings import RatingService, claim_batch_handler
from server.services.refresh_tokens import RefreshTokens
from server.services.rl_buffer import RlBufferService
from server.services.rooms import RoomPolicy
from server.services.sync import SyncService
from server.services.sync_poke import SyncPoker
from server.services.tokens import TokenService
from server.services.tournament.service import TournamentService
from server.settings import Settings


@dataclass
class Services:
    settings: Settings
    bus: EventBus
    tokens: TokenService
    limits: Limits
    accounts: AccountService
    tournaments: TournamentService
    poker: SyncPoker
    history: HistoryService
    sync: SyncService
    batch: BatchService
    ai_models: AiModelService
    rl_buffer: RlBufferService
    rooms: RoomPolicy
    chat: ChatService
    ratings: RatingService
    console: ConsoleService


def build_services(settings: Settings) -> Services:
    bus = EventBus()
    tokens = TokenService(settings.jwt_secret, settings.jwt_audience, settings.access_token_ttl)
    limits = Limits(settings)
    ratings = RatingService(bus, idle_growth_per_day=settings.rating_idle_growth_per_day,
                            max_placings=settings.rating_max_placings)
    poker = SyncPoker(bus, settings.sync_poke_debounce)
    services = Services(
        settings=settings,
        bus=bus,
        tokens=tokens,
        limits=limits,
        accounts=AccountService(
            bus, RefreshTokens(tokens, settings.refresh_token_ttl, settings.refresh_grace_seconds),
            PasswordHasher(settings.bcrypt_cost), limits, poker),
        tournaments=TournamentService(bus, rate_result=ratings.rate_tournament),
        ratings=ratings,
        ai_models=AiModelService(settings, bus),
        rl_buffer=RlBufferService(settings, bus),
        console=ConsoleService(),
        **_realtime_services(settings, bus),
        **_sync_services(settings, bus, poker),
    )
    services.rooms.register_kind("tournament", services.tournaments.may_join_room)
    services.rooms.register_kind("models", services.ai_models.may_join_room)
    services.batch.register("rating_claim", claim_batch_handler(services.ratings))
    services.batch.register("settings", settings_batch_handler(services.accounts))
    services.batch.register("rl_lines", services.rl_buffer.store_queued)
    return services


def _sync_services(settings: Settings, bus: EventBus, poker: SyncPoker) -> dict[str, object]:
    history = HistoryService(bus, poker, record_max_bytes=settings.history_record_max_bytes,
                             batch_max=settings.history_batch_max)
    batch = BatchService(max_ops=settings.batch_max_ops)
    for name, kind in KINDS.items():
        one, run = batch_handlers(history, kind)
        batch.register(name, one, many=run)
    return {
        "poker": poker, "history": history, "batch": batch,
        "sync": SyncService(bus, poker, json_max_bytes=settings.history_record_max_bytes,
                            push_max_records=settings.sync_push_max_records),
    }


def _realtime_services(settings: Settings, bus: EventBus) -> dict[str, object]:
    rooms = RoomPolicy(settings)
    return {"rooms": rooms, "chat": ChatService(bus, rooms, settings.chat_max_length)}
