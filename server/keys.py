"""Every typed application key, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from server.metrics import Metrics
    from server.realtime.hub import Realtime
    from server.services.container import Services
    from server.settings import Settings
    from server.storage.blobs import BlobStore

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
REDIS: web.AppKey[Redis | None] = web.AppKey("redis")
BLOBS: web.AppKey[BlobStore] = web.AppKey("blobs")
SERVICES: web.AppKey[Services] = web.AppKey("services")
REALTIME: web.AppKey[Realtime] = web.AppKey("realtime")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
