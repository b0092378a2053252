"""Who is calling: the bearer access token, checked once per request."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import keys
from server.errors import AppError, Unauthorized
from server.services.tokens import AccessClaims

# Set by `verify_bearer_session` when the token is well signed but its session is dead.
SESSION_ERROR: web.RequestKey[AppError] = web.RequestKey("session_error", AppError)


def bearer_claims(request: web.Request) -> AccessClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <access token>")
    claims = request.app[keys.SERVICES].tokens.verify_access(token.strip())
    session_error = request.get(SESSION_ERROR)
    if session_error is not None:
        raise session_error
    return claims


@web.middleware
async def verify_bearer_session(request: web.Request, handler: Any) -> web.StreamResponse:
    """Checks, once per request, that a well-signed bearer token's account still exists and its
    device is not signed out, so every route calling `bearer_claims` (which stays synchronous)
    refuses dead sessions. Routes that never ask for the caller (login, signup) are unaffected
    by a stale header."""
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        try:
            claims = bearer_claims(request)
        except AppError:
            claims = None  # bearer_claims raises it again for routes that need the caller
        if claims is not None:
            try:
                await request.app[keys.SERVICES].accounts.verify_session(claims)
            except AppError as err:
                request[SESSION_ERROR] = err
    return await handler(request)
