"""The app factory: everything one instance needs, built from one Settings object."""

from __future__ import annotations

from aiohttp import web

from events import all_events
from server import keys, lifecycle
from server.http.auth_context import verify_bearer_session
from server.http.envelope import envelope_errors
from server.http.request_limits import limit_requests
from server.http.routes import setup_routes
from server.http.sync import flush_sync_pokes
from server.metrics import Metrics, metrics_endpoint, observe_requests
from server.realtime.hub import Realtime
from server.services.container import build_services
from server.settings import Settings
from server.shutdown import close_sockets


def create_app(settings: Settings) -> web.Application:
    # Outermost first: errors are shaped for everything inside, and the rate limit runs
    # before any token or database work.
    app = web.Application(middlewares=[observe_requests, envelope_errors, limit_requests,
                                       verify_bearer_session],
                          client_max_size=settings.max_body_bytes)
    app[keys.SETTINGS] = settings
    services = build_services(settings)
    app[keys.SERVICES] = services
    realtime = Realtime(services, all_events())
    app[keys.REALTIME] = realtime
    realtime.attach(app)
    metrics = Metrics()
    metrics.watch_realtime(realtime)
    app[keys.METRICS] = metrics
    app.router.add_get("/metrics", metrics_endpoint)
    setup_routes(app)
    app.on_shutdown.append(flush_sync_pokes)
    app.on_shutdown.append(close_sockets)  # SIGTERM: clients reconnect elsewhere and resume
    # Order matters: torn down in reverse, so the database outlives everything that uses it.
    app.cleanup_ctx.extend([lifecycle.database, lifecycle.redis, lifecycle.limits,
                            lifecycle.blob_store,
                            lifecycle.tournament_clock])
    app.cleanup_ctx.append(realtime.running)  # after the database: its loops read the log
    app.cleanup_ctx.append(lifecycle.console_feed)  # reads the database and the realtime core
    return app
