"""A tournament's structure: blind levels (with the game per level for mixed games) and breaks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

GAMES = ("nlh", "lhe", "plo", "plo8", "razz", "stud", "stud8", "2-7td", "2-7sd", "badugi", "a5td")
Game = Literal[GAMES]  # type: ignore[valid-type]


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    small_blind: int = Field(ge=0, le=10**12)
    big_blind: int = Field(gt=0, le=10**12)
    ante: int = Field(default=0, ge=0, le=10**12)
    duration_s: int = Field(ge=10, le=6 * 3600)
    game: Game = "nlh"

    @model_validator(mode="after")
    def _blinds_ordered(self) -> Level:
        if self.small_blind > self.big_blind:
            raise ValueError("small_blind must not exceed big_blind")
        return self


class Break(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    after_level: int = Field(ge=1)
    duration_s: int = Field(ge=10, le=4 * 3600)


class Structure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    levels: list[Level] = Field(min_length=1, max_length=200)
    breaks: list[Break] = Field(default_factory=list, max_length=100)
    starting_stack: int = Field(gt=0, le=10**12)
    seats_per_table: int = Field(ge=2, le=10)

    @model_validator(mode="after")
    def _breaks_inside(self) -> Structure:
        after = [b.after_level for b in self.breaks]
        if len(set(after)) != len(after):
            raise ValueError("at most one break after a level")
        if any(a >= len(self.levels) for a in after):
            raise ValueError("a break must come after a level that is not the last")
        return self
