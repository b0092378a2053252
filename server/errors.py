"""One error hierarchy for the whole server.

Services raise these; the HTTP middleware and the Socket.IO event wrapper map them to the
envelope `{"status": "error", "error": {"code", "message"}}` in exactly one place each.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 500
    code = "internal"
    default_message = "internal error"

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def to_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return error


class BadInput(AppError):
    status, code, default_message = 400, "bad_input", "the request is malformed"


class Unauthorized(AppError):
    status, code, default_message = 401, "unauthorized", "authentication required"


class AuthExpired(AppError):
    status, code, default_message = 401, "auth_expired", "the access token has expired"


class Forbidden(AppError):
    status, code, default_message = 403, "forbidden", "not allowed"


class NotFound(AppError):
    status, code, default_message = 404, "not_found", "not found"


class MethodNotAllowed(AppError):
    status, code, default_message = 405, "method_not_allowed", "method not allowed"


class Conflict(AppError):
    status, code, default_message = 409, "conflict", "conflicting state"


class PayloadTooLarge(AppError):
    status, code, default_message = 413, "payload_too_large", "the request body is too large"


class UnsupportedMediaType(AppError):
    status, code, default_message = 415, "unsupported_media_type", "send application/json"


class ValidationFailed(AppError):
    status, code, default_message = 422, "validation_failed", "the request failed validation"


class RateLimited(AppError):
    status, code, default_message = 429, "rate_limited", "too many requests"

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = max(1, int(retry_after + 0.999))


class Unavailable(AppError):
    status, code, default_message = 503, "unavailable", "service unavailable"


def ok(data: Any = None) -> dict[str, Any]:
    return {"status": "ok", "data": data}


def error_body(err: AppError) -> dict[str, Any]:
    return {"status": "error", "error": err.to_error()}


def validation_details(exc: Any) -> list[dict[str, Any]]:
    """Field errors from a pydantic ValidationError, without echoing the input back."""
    return [
        {"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "invalid")}
        for e in exc.errors(include_url=False, include_input=False)
    ]
