"""History routes: POST one record or `{records: [...]}`, GET pages of the caller's own records."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import keys
from server.errors import ValidationFailed
from server.http.auth_context import bearer_claims
from server.http.contract import accepts, responds
from server.http.envelope import respond
from server.http.inputs import read_json, read_query
from server.http.schemas import HistoryBodyIn, HistoryPageOut, HistoryStoredOut
from server.services.history import KINDS, HistoryKind, ListQuery

routes = web.RouteTableDef()


def _kind(request: web.Request) -> HistoryKind:
    return KINDS[request.match_info["kind"]]


@routes.post("/history/{kind:hand|tournament|mixed}")
@accepts(HistoryBodyIn)
@responds(HistoryStoredOut)
async def store_history(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    history = request.app[keys.SERVICES].history
    kind = _kind(request)
    body: Any = await read_json(request)
    if isinstance(body, dict) and set(body) == {"records"}:
        if not isinstance(body["records"], list):
            raise ValidationFailed("records must be a list")
        if len(body["records"]) > history.batch_max:
            raise ValidationFailed(f"at most {history.batch_max} records per call",
                                   code="batch_too_large")
        records = [history.validate(kind, item) for item in body["records"]]
        return respond({"records": await history.store(claims.user_id, kind, records)})
    record = history.validate(kind, body)
    return respond((await history.store(claims.user_id, kind, [record]))[0])


@routes.get("/history/{kind:hand|tournament|mixed}")
@responds(HistoryPageOut)
async def list_history(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    query = read_query(request, ListQuery)
    history = request.app[keys.SERVICES].history
    return respond(await history.list(claims.user_id, _kind(request), query))
