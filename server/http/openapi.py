"""OpenAPI 3.1 for the REST API, derived from the routes and the pydantic schemas they parse with.

No route declares its inputs twice: each handler's source is read and its
`read_body(request, X)`, `read_query(request, X)` and `parse(X, ...match_info...)` calls name the
schemas. What the source cannot show (the success `data`, a body parsed by hand) the handler
declares with `server.http.contract`. JSON Schema 2020-12 (what pydantic emits) is OpenAPI
3.1's schema dialect as is.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server import jsonutil
from server.http.contract import declared_body, declared_response

routes = web.RouteTableDef()

DOCS_PAGE = Path(__file__).with_name("static") / "api-docs.html"
DOCUMENTED_PREFIXES = ("/api/", "/healthz", "/readyz")
PATH_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
REF_TEMPLATE = "#/components/schemas/{model}"


def _schemas_used(handler: Any) -> dict[str, type[BaseModel]]:
    """{"body"|"query"|"path": schema} from the handler's calls to the input helpers."""
    try:
        source = textwrap.dedent(inspect.getsource(handler))
    except (OSError, TypeError):
        return {}
    found: dict[str, type[BaseModel]] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        name, args = node.func.id, node.args
        if name in ("read_body", "read_query") and len(args) >= 2:
            kind, schema_arg = ("body" if name == "read_body" else "query"), args[1]
        elif name == "parse" and len(args) >= 2:
            kind = "path" if "match_info" in ast.unparse(args[1]) else "body"
            schema_arg = args[0]
        else:
            continue
        if isinstance(schema_arg, ast.Name):
            schema = handler.__globals__.get(schema_arg.id)
            if isinstance(schema, type) and issubclass(schema, BaseModel):
                found.setdefault(kind, schema)
    return found


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = self.inline(model)
        self.schemas.setdefault(model.__name__, schema)
        return {"$ref": REF_TEMPLATE.format(model=model.__name__)}

    def inline(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF_TEMPLATE)
        for name, definition in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, definition)
        return schema


def _parameters(components: _Components, location: str, model: type[BaseModel],
                names: list[str] | None = None) -> list[dict[str, Any]]:
    schema = components.inline(model)
    required = set(schema.get("required", []))
    params = []
    for field, prop in schema.get("properties", {}).items():
        alias = field
        if names is not None and alias not in names:
            continue
        params.append({"name": alias, "in": location, "required": location == "path" or field in required,
                       "schema": prop})
    return params


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {"description": "A success envelope", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"data": data}, "required": ["data"]}}}}


def _success(components: _Components, handler: Any) -> dict[str, Any]:
    declared = declared_response(handler)
    if declared is None:
        return {"200": _envelope({})}
    model, status = declared
    return {str(status): _envelope(components.ref(model))}


ERROR_RESPONSE = {"$ref": "#/components/responses/Error"}


def build_openapi(app: web.Application, version: str) -> dict[str, Any]:
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or not path.startswith(DOCUMENTED_PREFIXES):
            continue
        used = _schemas_used(route.handler)
        body = declared_body(route.handler) or used.get("body")
        path_names = PATH_PARAM.findall(path)
        parameters: list[dict[str, Any]] = []
        if "path" in used:
            parameters += _parameters(components, "path", used["path"], path_names)
        covered = {p["name"] for p in parameters}
        parameters += [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                       for n in path_names if n not in covered]
        if "query" in used:
            parameters += _parameters(components, "query", used["query"])
        operation: dict[str, Any] = {
            "operationId": f"{route.method.lower()}_{route.handler.__name__}",
            "summary": (inspect.getdoc(route.handler) or route.handler.__name__).splitlines()[0],
            "tags": [path.removeprefix("/api/v1/").split("/")[0] or "ops"],
            "responses": {**_success(components, route.handler),
                          "4XX": ERROR_RESPONSE, "5XX": ERROR_RESPONSE},
        }
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": components.ref(body)}}}
        if path.startswith("/api/"):
            operation["security"] = [{"bearer": []}, {}]
        paths.setdefault(PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", path), {})[
            route.method.lower()] = operation
    error_schema = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "details": {}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "feltsync", "version": version,
                 "description": "Every response is an envelope: `{data}` or `{error}`."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "responses": {"Error": {"description": "An error envelope",
                                    "content": {"application/json": {"schema": error_schema}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    # Built per request (a few milliseconds): nothing to keep in sync or invalidate.
    spec = build_openapi(request.app, version("feltsync"))
    return web.Response(body=jsonutil.dumps(spec), content_type="application/json")


@routes.get("/docs")
async def api_docs(request: web.Request) -> web.Response:
    return web.Response(body=_docs_page(), content_type="text/html")


@cache
def _docs_page() -> bytes:
    return DOCS_PAGE.read_bytes()

