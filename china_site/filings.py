"""The filing registry (DESIGN.md contract): pydantic v2 models, cross-field checks, lookup and loaders.

INTERFACE STUB — models' fields and public functions are the contract; validators, index and loaders in progress.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

EntityType = Literal["enterprise", "individual", "government", "institution", "other"]
Ownership = Literal["domestic", "foreign-invested", "foreign"]
SiteStatus = Literal["approved", "pending", "cancelled"]
PermitKind = Literal["B25", "B21"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Permit(_Model):
    number: str
    kind: PermitKind
    issued: dt.date
    expires: dt.date


class Entity(_Model):
    name: str
    type: EntityType
    ownership: Ownership
    province: str  # two-digit GB/T 2260 code (YAML ints are accepted and converted)
    icp_number: str | None = None
    status: Literal["active", "cancelled"] = "active"  # cancelling the entity cancels all of its sites
    permits: tuple[Permit, ...] = ()


class Site(_Model):
    domain: str  # registrable domain, stored in ASCII (punycode) lower case
    entity: str
    icp_number: str | None = None
    status: SiteStatus
    approved: dt.date | None = None
    cancelled: dt.date | None = None
    access_providers: tuple[str, ...] = ()  # normalised: "aliyun" -> "alibaba-cloud"
    registrar_in_china: bool = False
    real_name_verified: bool = False
    launched: dt.date | None = None
    psb_number: str | None = None
    psb_filed: dt.date | None = None
    payments: bool | None = None  # optional hint: the site takes payments
    platform: bool | None = None  # optional hint: third-party sellers (needs B21)


class FilingRegistry(_Model):
    version: Literal[1] = 1
    entities: dict[str, Entity] = {}
    sites: tuple[Site, ...] = ()
    source: str = "<memory>"  # where it was loaded from (set by the loaders; not part of the file format)

    def covering(self, host: str) -> Site | None:
        """The site entry whose registrable domain covers ``host`` (any subdomain), else None.

        Time proportional to the number of labels in ``host``.
        """
        raise NotImplementedError

    def entity_of(self, site: Site) -> Entity:
        raise NotImplementedError


def parse_registry(data: object, *, source: str) -> FilingRegistry:
    """Validate already-decoded data; raises RegistryError naming source, entry and field."""
    raise NotImplementedError


def load_registry(source: str, *, cache_dir: str | None = None) -> FilingRegistry:
    """Load from a path (YAML/JSON), ``oss://BUCKET/KEY`` or ``s3://BUCKET/KEY``; raises RegistryError."""
    raise NotImplementedError
