"""Apply a `POST /batch` item at most once, even when the client resends it.

The change and the record that it was applied commit in one transaction; the record is unique
per user, op and client id. A resend finds the record and answers what the first send
answered; of two concurrent sends, the second fails on the unique key, rolls back whole and
then answers from the record the first one committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.exceptions import IntegrityError

from models.history import AppliedBatchOp
from server.services.batch import BatchCall
from server.services.event_bus import EventBus, Publication

Apply = Callable[[Publication], Awaitable[Any]]


async def apply_once(bus: EventBus, call: BatchCall, op: str, apply: Apply) -> tuple[Any, bool]:
    """(what `apply` returned, True) the first time; (that same answer, False) on a resend.

    `apply` makes the change inside the given transaction and returns a JSON-able answer.
    """
    key = {"user_id": call.user_id, "op": op, "client_id": call.client_id}
    try:
        async with bus.transaction() as tx:
            done = await AppliedBatchOp.get_or_none(**key).using_db(tx.db)
            if done is not None:
                return done.result, False
            result = await apply(tx)
            await AppliedBatchOp.create(using_db=tx.db, **key, result=result)
    except IntegrityError:
        done = await AppliedBatchOp.get_or_none(**key)
        if done is None:
            raise
        return done.result, False
    return result, True
