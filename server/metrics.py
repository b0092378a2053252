"""Prometheus metrics of one app instance, in a registry of its own.

Several instances can live in one process (the tests run many), so nothing here is module
global. The realtime core keeps its counts as plain attributes; a collector reads them at scrape
time, so the delivery path pays nothing for being observed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from server import keys

if TYPE_CHECKING:
    from server.realtime.hub import Realtime
    from server.services.event_bus import RoomEventRecord

REQUEST_ID_HEADER = "X-Request-Id"
UNMATCHED_ROUTE = "unmatched"
ACCESS_LOGGER = "feltsync.access"
access_log = structlog.get_logger(ACCESS_LOGGER)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_latency = Histogram(
            "feltsync_http_request_duration_seconds", "REST latency by route and status",
            ["method", "route", "status"], registry=self.registry, buckets=LATENCY_BUCKETS)
        self.rest_rate_limited = 0
        self.deliver_latency = Histogram(
            "feltsync_event_publish_to_deliver_seconds",
            "From the event's commit to its emit on this instance", registry=self.registry,
            buckets=LATENCY_BUCKETS)

    def watch_realtime(self, realtime: Realtime) -> None:
        self.registry.register(RealtimeCollector(realtime, self))
        realtime.core.delivery.after_emit.append(self._observe_delivery)

    async def _observe_delivery(self, record: RoomEventRecord) -> None:
        created = record.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        self.deliver_latency.observe(max(0.0, (datetime.now(UTC) - created).total_seconds()))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class RealtimeCollector(Collector):
    """Gauges and counters read from the realtime core's own attributes at scrape time."""

    def __init__(self, realtime: Realtime, metrics: Metrics):
        self.realtime = realtime
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        rt = self.realtime
        core, delivery, fanout = rt.core, rt.core.delivery, rt.core.fanout
        yield _gauge("feltsync_socket_connections", "Authenticated sockets on this instance",
                     len(rt.registry))
        yield _gauge("feltsync_rooms_active", "Rooms with members on this instance",
                     len(delivery.tracked_rooms()))
        yield _counter("feltsync_events_published", "Room events committed on this instance",
                       rt.published)
        yield _counter("feltsync_events_delivered", "Room events emitted to local members",
                       delivery.delivered)
        yield _counter("feltsync_events_gap_filled", "Events emitted from the log after a fan-out gap",
                       delivery.gap_filled)
        yield _counter("feltsync_delivery_failures", "Emits or after-delivery hooks that raised",
                       delivery.failures)
        yield _counter("feltsync_slow_consumers_dropped", "Sockets cut off for not keeping up",
                       core.slow_consumers_dropped)
        yield _counter("feltsync_resumes", "Room joins that resumed from a last_seq",
                       rt.membership.resumes)
        yield _counter("feltsync_events_replayed", "Events replayed to resuming sockets",
                       rt.membership.replayed)
        limited = CounterMetricFamily("feltsync_rate_limit_hits",
                                      "Requests and socket events refused by a rate limit",
                                      labels=["scope"])
        limited.add_metric(["rest"], self.metrics.rest_rate_limited)
        limited.add_metric(["socket"], rt.registry.rate_limited)
        yield limited
        if fanout is not None:
            yield _counter("feltsync_fanout_publish_failures", "Redis fan-out publishes that failed",
                           fanout.publish_failures)
            yield _counter("feltsync_fanout_dropped", "Events dropped from a full fan-out outbox",
                           fanout.dropped)
            yield _gauge("feltsync_fanout_connected", "1 while the Redis subscriber is connected",
                         int(fanout.connected))


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _route_name(request: web.Request) -> str:
    # The route template, never the raw path: ids in paths would explode the label set.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


@web.middleware
async def observe_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """Outermost: gives every request an id for the logs and times it with its final status."""
    request_id = request.headers.get(REQUEST_ID_HEADER, "")[:64] or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID_HEADER] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = _route_name(request)
        metrics = request.app[keys.METRICS]
        metrics.http_latency.labels(request.method, route, str(status)).observe(elapsed)
        # Guarded by the stdlib level: without configure_logging structlog would print everything.
        if logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.DEBUG):
            access_log.debug("request", method=request.method, route=route, status=status,
                             ms=round(elapsed * 1000, 2))
        if status == 429:
            metrics.rest_rate_limited += 1
        structlog.contextvars.unbind_contextvars("request_id")


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = request.app[keys.METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
