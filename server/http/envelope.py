"""Envelope responses and the error-mapping middleware (the one place HTTP errors are shaped)."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from server import jsonutil
from server.errors import (
    AppError,
    BadInput,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    error_body,
    ok,
)

log = logging.getLogger(__name__)


def respond(data: Any = None, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(ok(data), status=status, headers=headers, dumps=jsonutil.dumps)


def error_response(err: AppError) -> web.Response:
    headers = {"Retry-After": str(err.retry_after)} if isinstance(err, RateLimited) else None
    return web.json_response(error_body(err), status=err.status, headers=headers,
                             dumps=jsonutil.dumps)


_HTTP_STATUS_ERRORS: dict[int, type[AppError]] = {
    400: BadInput, 404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


@web.middleware
async def envelope_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as err:
        if err.status >= 500:
            log.exception("server error on %s %s", request.method, request.path)
        return error_response(err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        mapped = _HTTP_STATUS_ERRORS.get(exc.status)
        err = mapped() if mapped else AppError(exc.reason, code=exc.reason.lower().replace(" ", "_"))
        err.status = exc.status
        return error_response(err)
    except Exception:
        # Details go to the log only; the client sees a generic internal error.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(AppError())
