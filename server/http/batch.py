"""`POST /batch`: the client's offline retry queue, answered per item."""

from __future__ import annotations

from aiohttp import web

from server import keys
from server.errors import ValidationFailed
from server.http.auth_context import bearer_claims
from server.http.contract import responds
from server.http.envelope import respond
from server.http.inputs import parse, read_json
from server.http.schemas import BatchOut
from server.services.batch import BatchBody

routes = web.RouteTableDef()


@routes.post("/batch")
@responds(BatchOut)
async def run_batch(request: web.Request) -> web.Response:
    claims = bearer_claims(request)
    batch = request.app[keys.SERVICES].batch
    body = await read_json(request)
    # Count before parsing, so an oversize queue is refused without validating every item.
    if isinstance(body, dict) and isinstance(body.get("operations"), list) \
            and len(body["operations"]) > batch.max_ops:
        raise ValidationFailed(f"at most {batch.max_ops} operations per batch",
                               code="batch_too_large")
    parsed = parse(BatchBody, body)
    results = await batch.run(claims.user_id, claims.device_id, parsed.operations)
    return respond({"results": results})
