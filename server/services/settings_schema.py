"""What a settings change may hold: one schema for REST, the batch queue and sync pushes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

THEMES = ("classic", "dark", "light", "high_contrast")
CARD_SKIN_PATTERN = r"^[a-z0-9_\-]{1,32}$"

CardSkin = Annotated[str, StringConstraints(pattern=CARD_SKIN_PATTERN)]
Version = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]


class _SettingsVersion(BaseModel):
    version: Version


class SettingsChange(BaseModel):
    """The settings to change; a missing or null field stays as it is."""

    model_config = ConfigDict(extra="forbid")
    se_on: StrictBool | None = None
    bgm_on: StrictBool | None = None
    theme: Literal[THEMES] | None = None  # type: ignore[valid-type]
    card_skin: CardSkin | None = None

    def changes(self) -> dict[str, object]:
        return {k: v for k, v in self.model_dump(exclude={"version"}).items() if v is not None}


# A change made against the settings `version` the client last read. The base order puts
# `version` first, as the generated client type has always had it (no docstring: it would
# become the client type's description).
class SettingsIn(SettingsChange, _SettingsVersion):
    pass
