"""WatermelonDB-compatible pull and push over the tables in sync_tables.

Pull returns every change of the caller's rows with `last_pulled_at < last_modified <= now`,
where `now` is the sync clock read at the start (the clock's lock orders commits, so nothing
at or below `now` can still appear later). Push is all or nothing: one transaction, one tick,
and a 409 if any touched row was changed by another device after `last_pulled_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import connections

from server.errors import BadInput, Conflict, NotFound, ValidationFailed
from server.services.event_bus import EventBus, Publication
from server.services.sync_clock import current, next_tick
from server.services.sync_poke import SyncPoker
from server.services.sync_tables import SYNC_TABLES, SyncTable, TableChanges, parse_push


@dataclass(frozen=True)
class Migration:
    """WatermelonDB's `migration` pull argument: tables and columns the client just added."""

    tables: frozenset[str]
    column_tables: frozenset[str]


def parse_migration(raw: Any) -> Migration | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("from"), int) \
            or not isinstance(raw.get("tables", []), list) \
            or not isinstance(raw.get("columns", []), list):
        raise BadInput("migration must be {from, tables, columns}")
    tables = set(raw.get("tables", []))
    column_tables = set()
    for entry in raw.get("columns", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("table"), str):
            raise BadInput("migration.columns entries must be {table, columns}")
        column_tables.add(entry["table"])
    unknown = (tables | column_tables) - set(SYNC_TABLES)
    if unknown:
        raise ValidationFailed(f"unknown table {min(unknown)[:64]!r}", code="unknown_table")
    return Migration(frozenset(tables), frozenset(column_tables))


class SyncService:
    def __init__(self, bus: EventBus, poker: SyncPoker, *, json_max_bytes: int,
                 push_max_records: int):
        self._bus = bus
        self._poker = poker
        self._json_max_bytes = json_max_bytes
        self._push_max_records = push_max_records

    async def clock(self) -> int:
        """The last committed tick; takes the first one on a brand-new database."""
        now = await current(connections.get("default"))
        if now is None:
            async with self._bus.transaction() as tx:
                now = await next_tick(tx.db)
        return now

    async def pull(self, user_id: int, device_id: str, last_pulled_at: int | None,
                   migration: Migration | None = None) -> dict[str, Any]:
        """`{changes: {table: {created, updated, deleted}}, timestamp}` for the caller's rows."""
        now = await self.clock()
        if last_pulled_at is not None and last_pulled_at > now:
            raise BadInput("last_pulled_at is ahead of the server clock")
        changes = {}
        for table in SYNC_TABLES.values():
            added = migration is not None and table.name in migration.tables
            full = last_pulled_at is None or added
            if full:
                changes[table.name] = await self._everything(user_id, table, now)
            else:
                assert last_pulled_at is not None
                resend_all = migration is not None and table.name in migration.column_tables
                changes[table.name] = await self._since(user_id, device_id, table, last_pulled_at,
                                                        now, resend_all)
        return {"changes": changes, "timestamp": now}

    async def _rows(self, table: SyncTable, **filters: Any) -> list[dict[str, Any]]:
        fields = dict.fromkeys([table.key, *table.columns, "deleted", "server_created_at",
                                "created_by_device", "changed_by_device", "last_modified"])
        return await table.model.filter(**filters).values(*fields)

    async def _everything(self, user_id: int, table: SyncTable, now: int) -> dict[str, list[Any]]:
        # First sync: live rows only, all as created, no tombstones.
        rows = await self._rows(table, **{table.owner: user_id}, deleted=False,
                                last_modified__lte=now)
        return {"created": [table.row_to_wire(r) for r in rows], "updated": [], "deleted": []}

    async def _since(self, user_id: int, device_id: str, table: SyncTable, since: int, now: int,
                     resend_all: bool) -> dict[str, list[Any]]:
        filters: dict[str, Any] = {table.owner: user_id, "last_modified__lte": now}
        if not resend_all:
            filters["last_modified__gt"] = since
        created, updated, deleted = [], [], []
        for row in await self._rows(table, **filters):
            changed = row["last_modified"] > since
            if changed and row["changed_by_device"] == device_id:
                continue  # this device made the latest change, so it already holds it
            if row["deleted"]:
                if changed:
                    deleted.append(table.record_id(row))
            elif (changed and row["server_created_at"] > since
                  and row["created_by_device"] != device_id):
                created.append(table.row_to_wire(row))
            else:
                updated.append(table.row_to_wire(row))
        return {"created": created, "updated": updated, "deleted": deleted}

    async def push(self, user_id: int, device_id: str, last_pulled_at: int,
                   changes: Any) -> dict[str, Any]:
        """Apply a WatermelonDB push in one transaction; returns the tick it was stamped with."""
        parsed = parse_push(changes, json_max_bytes=self._json_max_bytes,
                            max_records=self._push_max_records)
        for table_changes in parsed:
            table_changes.table.check_owner(user_id, table_changes)
        if not any(t.ids for t in parsed):
            return {"timestamp": await self.clock(), "changed": 0}
        async with self._bus.transaction() as tx:
            tick = await next_tick(tx.db)
            if last_pulled_at >= tick:
                raise BadInput("last_pulled_at is ahead of the server clock")
            changed = 0
            for table_changes in parsed:
                changed += await self._apply(tx, user_id, device_id, last_pulled_at, tick,
                                             table_changes)
        if changed:
            self._poker.changed(user_id, tick)
        return {"timestamp": tick, "changed": changed}

    async def _apply(self, tx: Publication, user_id: int, device_id: str, last_pulled_at: int,
                     tick: int, changes: TableChanges) -> int:
        db = tx.db
        table = changes.table
        model, key = table.model, table.key
        owner = {table.owner: user_id}
        if table.per_user:
            # check_owner let only the caller's own id through; that row always exists.
            if table.create_missing:
                await model.get_or_create(**owner, using_db=db)
            query = model.filter(**owner).using_db(db)
        else:
            query = model.filter(**owner, **{f"{key}__in": changes.ids}).using_db(db)
        if db.capabilities.dialect == "postgres":
            query = query.select_for_update()
        rows = {str(getattr(r, key)): r for r in await query}
        if table.per_user and not rows:
            raise NotFound("no such user")
        for record_id, row in rows.items():
            if row.last_modified > last_pulled_at and row.changed_by_device != device_id:
                raise Conflict(f"{table.name} {record_id} changed on the server after"
                               " last_pulled_at: pull, then push again", code="sync_conflict")
        stamp = {"last_modified": tick, "changed_by_device": device_id}
        changed = 0
        for record_id, values in changes.created + changes.updated:
            row = rows.get(record_id)
            if row is None:
                missing = [c for c in table.required if c not in values]
                if missing:
                    raise ValidationFailed(f"{table.name} {record_id} lacks {', '.join(missing)}",
                                           code="missing_column")
                await model.create(using_db=db, user_id=user_id, **{key: record_id}, **values,
                                   **stamp, server_created_at=tick, created_by_device=device_id)
            elif row.deleted:
                continue  # a deleted record stays deleted: nothing is resurrected
            else:
                await model.filter(id=row.id).using_db(db).update(**values, **stamp)
            changed += 1
        for record_id in changes.deleted:
            row = rows.get(record_id)
            if row is None or row.deleted:
                continue  # deleting what is missing is a no-op
            await model.filter(id=row.id).using_db(db).update(deleted=True, **stamp)
            changed += 1
        if changed and table.on_change is not None:
            await table.on_change(tx, user_id, device_id)
        return changed
