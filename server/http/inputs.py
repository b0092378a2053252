"""Parsing request bodies and query strings into pydantic schemas."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from server import jsonutil
from server.errors import BadInput, UnsupportedMediaType, ValidationFailed, validation_details

Schema = TypeVar("Schema", bound=BaseModel)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body. The size cap is the app's `client_max_size` (413)."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    raw = await request.read()
    try:
        return jsonutil.loads(raw)
    except ValueError as exc:
        raise BadInput("the body is not valid JSON") from exc


def parse(schema: type[Schema], data: Any) -> Schema:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details(exc)) from exc


async def read_body(request: web.Request, schema: type[Schema]) -> Schema:
    return parse(schema, await read_json(request))


def read_query(request: web.Request, schema: type[Schema]) -> Schema:
    return parse(schema, dict(request.query))
