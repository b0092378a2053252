"""Console entry point: `feltsync serve`, `feltsync migrate`, `feltsync check-config`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aiohttp import web

from server.logs import configure_logging
from server.settings import Settings, SettingsError, load_settings


def _serve(settings: Settings) -> None:
    from server.app import create_app

    app = create_app(settings)
    url = f"http://{settings.host}:{settings.port}"
    print(f"feltsync listening on {url}  (database: {settings.database_url.split('@')[-1]},"
          f" redis: {'on' if settings.redis_url else 'off'})", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None,
                shutdown_timeout=10.0, loop=_event_loop(settings))


def _event_loop(settings: Settings) -> asyncio.AbstractEventLoop | None:
    """uvloop when UVLOOP is on and it is installed (bench/fanout.py measures the gain)."""
    if not settings.uvloop:
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop()


def _migrate(settings: Settings) -> None:
    from server.storage.orm import run_migrations

    asyncio.run(run_migrations(settings.database_url))
    print("migrations applied", flush=True)


def _ai_command(settings: Settings, args: argparse.Namespace) -> int:
    from server import cli_ai

    if args.command == "publish-model":
        return asyncio.run(cli_ai.publish_model(settings, args.file, args.family, args.version,
                                                args.type))
    if args.out is None:
        return asyncio.run(cli_ai.export_rl(settings, sys.stdout, args.game, args.model_version,
                                            args.after_id))
    with args.out.open("w") as out:
        return asyncio.run(cli_ai.export_rl(settings, out, args.game, args.model_version,
                                            args.after_id))


def _export_histories(settings: Settings, args: argparse.Namespace) -> int:
    from server.cli_export import export_histories

    if args.out is None:
        return asyncio.run(export_histories(settings, sys.stdout, args.user, args.kind))
    with args.out.open("w") as out:
        return asyncio.run(export_histories(settings, out, args.user, args.kind))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="feltsync")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("check-config", help="validate the environment and exit")
    publish = sub.add_parser("publish-model", help="validate, store and serve an ONNX model")
    publish.add_argument("file", type=Path)
    publish.add_argument("--family", required=True)
    publish.add_argument("--version", required=True)
    publish.add_argument("--type", choices=["per_game", "multi_head", "pro"])
    export = sub.add_parser("export-rl", help="stream the learning buffer as JSON Lines")
    export.add_argument("--out", type=Path, help="file to write (default: stdout)")
    export.add_argument("--game")
    export.add_argument("--model-version")
    export.add_argument("--after-id", type=int, default=0)
    histories = sub.add_parser("export", help="stream histories as JSON Lines for analysis")
    histories.add_argument("--user", type=int, help="only this user's records (default: everyone)")
    histories.add_argument("--kind", action="append", choices=["hand", "tournament", "mixed"],
                           help="repeat to pick kinds (default: all)")
    histories.add_argument("--out", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)

    overrides = {k: v for k, v in (("host", getattr(args, "host", None)),
                                   ("port", getattr(args, "port", None))) if v is not None}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"feltsync: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json_logs=settings.env == "production")

    if args.command == "serve":
        _serve(settings)
    elif args.command == "migrate":
        _migrate(settings)
    elif args.command in ("publish-model", "export-rl"):
        return _ai_command(settings, args)
    elif args.command == "export":
        return _export_histories(settings, args)
    else:
        print("configuration ok", flush=True)
    return 0
