"""The one JSON encoder: orjson, exposed in the shapes aiohttp and python-socketio expect."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def dumps_bytes(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def loads(data: str | bytes, **_: Any) -> Any:
    return orjson.loads(data)


class SocketIOJson:
    """python-socketio takes a module-like object with dumps/loads."""

    dumps = staticmethod(dumps)
    loads = staticmethod(loads)
