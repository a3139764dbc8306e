"""Named, constrained scalar types reused across contracts.

Constraints live in the type (``Annotated[..., Meta(...)]``) so that msgspec enforces them on decode and they
flow into the exported JSON Schema. Each cites where its rule comes from.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

__all__ = [
    "ConnectorId",
    "ConversionBasis",
    "CountryCode",
    "EctsCredits",
    "EqfLevel",
    "Esi",
    "FrameworkId",
    "HttpUrl",
    "IscedFieldCode",
    "LanguageCode",
    "LongText",
    "MemberStatus",
    "NonNegativeAmount",
    "NotionalHours",
    "QfEheaCycle",
    "SchacHome",
    "ShortText",
]

# schacHomeOrganization is the institution's DNS domain (shared/reference/domain.md section 7), lower-case
# here so that one institution has one id. Groups in these patterns do not capture: a decode only asks
# whether the value matches, and capturing made the match a third slower (1.06 -> 0.70 us).
SchacHome = Annotated[
    str,
    Meta(
        pattern=r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="The schacHomeOrganization of the institution: its DNS domain in lower case.",
        examples=["uni-a.ac.uk"],
    ),
]

# ISO 3166-1 alpha-2, upper case.
CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.")]

# BCP 47 primary language subtag, optionally with a region (kept deliberately narrow).
LanguageCode = Annotated[
    str, Meta(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="BCP 47 language tag, e.g. en or en-GB.")
]

FrameworkId = Annotated[
    str,
    Meta(
        pattern=r"^[a-z][a-z0-9-]{1,31}$",
        description="Id of a credit framework adapter, e.g. uk-fheq, scqf, ects.",
        examples=["uk-fheq"],
    ),
]

ConnectorId = Annotated[
    str,
    Meta(pattern=r"^[a-z][a-z0-9-]{1,31}$", description="Id of a registry connector adapter, e.g. ooapi."),
]

MemberStatus = Literal["active", "suspended", "withdrawn"]

ConversionBasis = Literal["convention", "hours"]
"""How a credit value was normalised: by a framework's stated ECTS convention factor, or by notional hours.

The two must never be mixed in one conversion (shared/reference/domain.md section 1, "Gotcha")."""

EqfLevel = Annotated[int, Meta(ge=1, le=8, description="European Qualifications Framework level, 1 to 8.")]

QfEheaCycle = Literal["short", "first", "second", "third"]

# Upper bounds keep a malformed record from carrying absurd values; 480 ECTS is a long integrated degree.
EctsCredits = Annotated[float, Meta(ge=0, le=1000, description="ECTS credits.")]
NonNegativeAmount = Annotated[float, Meta(ge=0, le=100_000)]
NotionalHours = Annotated[float, Meta(ge=0, le=100_000, description="Notional learning hours.")]

ShortText = Annotated[str, Meta(min_length=1, max_length=300)]
LongText = Annotated[str, Meta(min_length=1, max_length=10_000)]

HttpUrl = Annotated[str, Meta(pattern=r"^https?://[^\s/@]+(/\S*)?$", max_length=2048)]

# ISCED-F 2013 fields of education and training: 2-digit broad, 3-digit narrow or 4-digit detailed codes.
IscedFieldCode = Annotated[str, Meta(pattern=r"^\d{2}(\d{1,2})?$", description="ISCED-F 2013 field code.")]

# European Student Identifier v1.0 (shared/reference/domain.md section 7): at most 255 characters; matched
# case-insensitively. The legacy draft form is accepted only as input elsewhere, never here.
Esi = Annotated[
    str,
    Meta(
        pattern=r"(?i)^urn:schac:personalUniqueCode:int:esi:(?:[a-z]{2}(?:-[a-z0-9]{1,3})?|[a-z0-9.-]+\.[a-z]{2,}):.+$",
        max_length=255,
        description="European Student Identifier (urn:schac:personalUniqueCode:int:esi:...).",
    ),
]
