"""Declarations a route makes for its OpenAPI entry that its source cannot show by itself.

`@responds(Model, status=201)` names the schema of the success envelope's `data`;
`@accepts(Model)` names the request body of a handler that parses its JSON without
`read_body`. Both only mark the handler: registration and behaviour are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

Handler = TypeVar("Handler", bound=Callable[..., Any])

_RESPONSE = "__openapi_response__"
_BODY = "__openapi_body__"


def responds(model: type[BaseModel], *, status: int = 200) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, _RESPONSE, (model, status))
        return handler
    return mark


def accepts(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, _BODY, model)
        return handler
    return mark


def declared_response(handler: Any) -> tuple[type[BaseModel], int] | None:
    return getattr(handler, _RESPONSE, None)


def declared_body(handler: Any) -> type[BaseModel] | None:
    return getattr(handler, _BODY, None)
