"""What a profile field may hold: one set of rules for signup, REST and sync pushes."""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, StringConstraints


def printable(value: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def _iso_country(value: str) -> str:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError("not an ISO 3166-1 alpha-2 country code")
    return value


Nickname = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True),
                     AfterValidator(printable)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True),
                    AfterValidator(_iso_country)]
# A preset avatar id, or an https URL to an image.
Avatar = Annotated[str, StringConstraints(pattern=r"^(https://[!-~]{1,248}|[a-z0-9_\-]{1,64})$")]
