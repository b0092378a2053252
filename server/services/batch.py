"""The offline retry queue: many operations in one call, applied in order, answered per item.

A client queues operations while offline and flushes them with `POST /batch`. Each item is
`{id, op, data}`: `id` is the client's id for that operation, `op` names a registered handler.
Items run one after another, each in its own transaction, so one failing item does not undo
the others. Every handler must be idempotent by the client id it is given (or by an id
inside `data`), so resending the whole queue after a lost response stores nothing twice.

Registering an operation (any service, once, when the services are built):

    async def apply_settings(call: BatchCall, data: Any) -> Any:
        ...  # validate `data`, apply it for call.user_id, return what the client should see
    services.batch.register("settings", apply_settings)

A handler raises AppError subclasses for a per-item error (`{status: "error", code, message}`);
what it returns becomes the item's `data`. Any other exception is an `internal` error item.

An op may also register `many`, which applies a run of consecutive items of that op in one
go (one transaction) and returns one result per item. It must either apply all of them or
raise; on any error the run is applied again item by item, so every item still gets its own
answer and the order is kept. A queue of hundreds of hands is then a handful of commits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.errors import AppError, ValidationFailed

log = logging.getLogger(__name__)

OP_NAME = r"^[a-z][a-z0-9_]{0,31}$"


@dataclass(frozen=True)
class BatchCall:
    """Who sent the item and under which client id."""

    user_id: int
    device_id: str
    client_id: str


BatchHandler = Callable[[BatchCall, Any], Awaitable[Any]]
BatchManyHandler = Callable[[list[BatchCall], list[Any]], Awaitable[list[Any]]]


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_:.-]{1,64}$")]
    op: Annotated[str, StringConstraints(pattern=OP_NAME)]
    data: Any = None


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    operations: list[BatchItem] = Field(min_length=1)


class BatchService:
    def __init__(self, *, max_ops: int):
        self.max_ops = max_ops
        self._handlers: dict[str, BatchHandler] = {}
        self._many: dict[str, BatchManyHandler] = {}

    def register(self, op: str, handler: BatchHandler, *,
                 many: BatchManyHandler | None = None) -> None:
        """Make `op` available in batches. Registering one name twice is a programming error."""
        if op in self._handlers:
            raise ValueError(f"batch op {op!r} is already registered")
        self._handlers[op] = handler
        if many is not None:
            self._many[op] = many

    @property
    def ops(self) -> list[str]:
        return sorted(self._handlers)

    async def run(self, user_id: int, device_id: str,
                  items: list[BatchItem]) -> list[dict[str, Any]]:
        """Apply the items in order; one result per item, in the same order."""
        if len(items) > self.max_ops:
            raise ValidationFailed(f"at most {self.max_ops} operations per batch",
                                   code="batch_too_large")
        results: list[dict[str, Any]] = []
        start = 0
        while start < len(items):
            end = start + 1
            while end < len(items) and items[end].op == items[start].op:
                end += 1
            run = items[start:end]
            calls = [BatchCall(user_id, device_id, item.id) for item in run]
            answered = await self._run_many(calls, run)
            if answered is None:
                answered = [await self._run_one(call, item) for call, item in zip(calls, run)]
            results += answered
            start = end
        return results

    async def _run_many(self, calls: list[BatchCall],
                        run: list[BatchItem]) -> list[dict[str, Any]] | None:
        many = self._many.get(run[0].op)
        if many is None or len(run) < 2:
            return None
        try:
            data = await many(calls, [item.data for item in run])
        except AppError:
            return None  # some item fails: item by item, each gets its own answer
        except Exception:
            log.exception("batch op %s failed as a run; retrying item by item", run[0].op)
            return None
        return [{"id": item.id, "status": "ok", "data": d} for item, d in zip(run, data)]

    async def _run_one(self, call: BatchCall, item: BatchItem) -> dict[str, Any]:
        handler = self._handlers.get(item.op)
        if handler is None:
            return _error(item.id, "unsupported_op",
                          f"operation {item.op!r} is not available on this server")
        try:
            data = await handler(call, item.data)
        except AppError as err:
            if err.status >= 500:
                log.exception("batch op %s failed", item.op)
                err = AppError()
            return _error(item.id, err.code, err.message, err.details)
        except Exception:
            log.exception("batch op %s failed", item.op)
            return _error(item.id, "internal", "internal error")
        return {"id": item.id, "status": "ok", "data": data}


def _error(item_id: str, code: str, message: str, details: Any = None) -> dict[str, Any]:
    error = {"id": item_id, "status": "error", "code": code, "message": message}
    if details is not None:
        error["details"] = details
    return error
