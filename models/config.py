"""Builds the Tortoise ORM config from a database URL."""

from __future__ import annotations

from typing import Any

# app label -> models module; each module has a sibling migrations package.
DOMAIN_APPS: dict[str, str] = {
    "accounts": "models.accounts",
    "realtime": "models.realtime",
    "history": "models.history",
    "ratings": "models.ratings",
    "ai": "models.ai",
    "tournaments": "models.tournaments",
}


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            label: {
                "models": [module],
                "default_connection": "default",
                "migrations": f"models.migrations.{label}",
            }
            for label, module in DOMAIN_APPS.items()
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _cli_config() -> dict[str, Any]:
    from server.settings import load_settings

    return tortoise_config(load_settings().database_url)


# For Tortoise's own CLI: `tortoise -c models.config.TORTOISE_ORM makemigrations`.
def __getattr__(name: str) -> Any:
    if name == "TORTOISE_ORM":
        return _cli_config()
    raise AttributeError(name)
