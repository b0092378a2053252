"""The same migrations apply to an empty SQLite file and an empty PostgreSQL database."""

from pathlib import Path

import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.api import plan

from models.config import tortoise_config
from server.storage.orm import run_migrations

MIGRATIONS = Path(__file__).resolve().parent.parent / "models" / "migrations"

EXPECTED_TABLES = {
    "users", "user_settings", "devices", "refresh_tokens", "room_seq", "room_events",
    "hand_history", "tournament_history", "mixed_game_history", "ratings", "ai_models", "rl_buffer",
    "ai_model_families", "tournaments", "tournament_snapshots",
    "chat_messages",
    "rating_results", "rating_changes",
    "sync_clock", "applied_batch_ops",
}


async def pending(url: str) -> list[str]:
    lines = await plan(config=tortoise_config(url))
    await Tortoise.close_connections()
    return [line for line in lines if not line.startswith("#")]


async def tables(url: str) -> set[str]:
    await Tortoise.init(config=tortoise_config(url))
    try:
        conn = connections.get("default")
        if conn.capabilities.dialect == "postgres":
            _, rows = await conn.execute_query(
                "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")
        else:
            _, rows = await conn.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in rows}
    finally:
        await Tortoise.close_connections()


@pytest.fixture
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite://{(tmp_path / 'fresh.sqlite3').as_posix()}"
        return
    from tests import services

    services.require("postgres", None if request.getfixturevalue("pg_url") else "no database")
    url, problem = services.create_pg_database()
    services.require("postgres", problem)
    yield url
    services.drop_pg_database(url)


@pytest.mark.parametrize("empty_db", ["sqlite", "postgres"], indirect=True)
async def test_migrations_apply_once_and_the_second_run_is_a_noop(empty_db):
    on_disk = sorted(p for p in MIGRATIONS.glob("*/[0-9]*.py"))
    assert len(await pending(empty_db)) == len(on_disk)
    await run_migrations(empty_db)
    assert EXPECTED_TABLES <= await tables(empty_db)
    assert await pending(empty_db) == []
    await run_migrations(empty_db)
    assert await pending(empty_db) == []


async def test_models_and_migrations_agree(tmp_path):
    """The autodetector finds no change: every model change has its migration committed."""
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config(f"sqlite://{(tmp_path / 'detect.sqlite3').as_posix()}")
    await Tortoise.init(config=config)
    try:
        writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    finally:
        await Tortoise.close_connections()
    assert [w.app_label for w in writers] == []


def _migrations() -> dict[tuple[str, str], type]:
    import importlib

    found = {}
    for path in sorted(MIGRATIONS.glob("*/[0-9]*.py")):
        module = importlib.import_module(f"models.migrations.{path.parent.name}.{path.stem}")
        found[(path.parent.name, path.stem)] = module.Migration
    return found


def _apps_referenced(migration: type) -> set[str]:
    fields = []
    for op in migration.operations:
        fields += [f for _, f in getattr(op, "fields", [])] + [getattr(op, "field", None)]
    return {f.model_name.split(".")[0] for f in fields
            if isinstance(getattr(f, "model_name", None), str) and "." in f.model_name}


def test_a_migration_that_points_into_another_app_depends_on_it():
    """Otherwise a fresh database may create a foreign key before the table it points to."""
    migrations = _migrations()

    def reachable(key: tuple[str, str]) -> set[str]:
        apps, todo, seen = set(), [key], set()
        while todo:
            app, name = todo.pop()
            if (app, name) in seen:
                continue
            seen.add((app, name))
            apps.add(app)
            todo += [tuple(dep) for dep in getattr(migrations[(app, name)], "dependencies", [])]
            earlier = sorted(n for a, n in migrations if a == app and n < name)
            todo += [(app, earlier[-1])] if earlier else []
        return apps

    missing = {f"{app}/{name}: {sorted(_apps_referenced(m) - reachable((app, name)))}"
               for (app, name), m in migrations.items() if _apps_referenced(m) - reachable((app, name))}
    assert len(migrations) > 10 and not missing, missing
