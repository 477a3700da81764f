"""Plausible, deterministic outputs the recording mocks answer with, per resource type (and per invoke token).

An output function gets the :class:`~china_site.engine.mocks.Recorder` and a :class:`MockContext` (the resource's
URN, type, name, inputs and region) and returns the computed outputs the provider would add: OSS bucket endpoints,
CDN cname, EIP address, load balancer DNS names, ECS private IPs, … (:data:`DEFAULT_OUTPUTS`); invokes answer from
:data:`DEFAULT_CALLS`. Values derive from the URN, so two runs of one program give the same outputs. The recorder
(:mod:`china_site.engine.mocks`) uses these unless a caller passes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from china_site.engine.mock_wire import _digest, reveal

if TYPE_CHECKING:
    from pulumi.runtime.mocks import MockCallArgs

    from china_site.engine.mocks import Recorder

__all__ = ["DEFAULT_CALLS", "DEFAULT_OUTPUTS", "CallFn", "MockContext", "OutputFn"]

OutputFn = Callable[["Recorder", "MockContext"], Mapping[str, Any]]
CallFn = Callable[["Recorder", "MockCallArgs", str | None], Mapping[str, Any]]


@dataclass(frozen=True)
class MockContext:
    """What an output function knows about the resource being registered."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    region: str | None  # from the provider's ``region`` or the stack's ``<pkg>:region``

    @property
    def digest(self) -> str:
        return _digest(self.urn)

    def ip(self, first_octet: int = 47) -> str:
        d = bytes.fromhex(self.digest[:6])
        return f"{first_octet}.{d[0]}.{d[1]}.{max(d[2], 1)}"

    def get(self, key: str) -> Any:
        """An input, unwrapped from its secret wrapper; None when absent or unknown."""
        from pulumi.output import Unknown

        value = reveal(self.inputs.get(key))
        return None if isinstance(value, Unknown) else value


def _region_or_default(ctx: MockContext) -> str:
    return ctx.region or "cn-hangzhou"


def _oss_bucket(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    region = _region_or_default(ctx)
    bucket = ctx.get("bucket") or f"{ctx.name}-{ctx.digest[:8]}".lower()
    return {
        "bucket": bucket,
        "extranetEndpoint": f"oss-{region}.aliyuncs.com",
        "intranetEndpoint": f"oss-{region}-internal.aliyuncs.com",
        "location": f"oss-{region}",
        "creationDate": "2025-01-01",
        "owner": "1234567890123456",
        "acl": ctx.get("acl") or "private",
        "storageClass": ctx.get("storageClass") or "Standard",
    }


def _cdn_domain(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    domain = ctx.get("domainName") or ctx.name
    return {"cname": f"{domain}.w.kunlunaz.com", "status": "online", "scope": ctx.inputs.get("scope", "domestic")}


def _dcdn_domain(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    domain = ctx.get("domainName") or ctx.name
    return {"cname": f"{domain}.w.kunlunaz.com", "status": "online"}


def _eip(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    return {"ipAddress": ctx.ip(), "status": "Available"}


def _alb(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    region = _region_or_default(ctx)
    return {"dnsName": f"alb-{ctx.digest[:18]}.{region}.alb.aliyuncs.com", "status": "Active"}


def _nlb(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    region = _region_or_default(ctx)
    return {"dnsName": f"nlb-{ctx.digest[:18]}.{region}.nlb.aliyuncs.com", "status": "Active"}


def _clb(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    internet = str(ctx.get("addressType") or "internet").lower() != "intranet"
    return {"address": ctx.ip() if internet else ctx.ip(10), "status": "active"}


def _ecs_instance(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    out: dict[str, Any] = {"status": "Running", "privateIp": rec.private_ip_for(ctx)}
    bandwidth = ctx.get("internetMaxBandwidthOut")
    if isinstance(bandwidth, int | float) and not isinstance(bandwidth, bool) and bandwidth > 0:
        out["publicIp"] = ctx.ip()
    return out


def _vpc(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    return {"routeTableId": f"vtb-{ctx.digest[:20]}", "routerId": f"vrt-{ctx.digest[20:40]}", "status": "Available"}


def _cname_token(rec: Recorder, ctx: MockContext) -> Mapping[str, Any]:
    return {"token": ctx.digest[:32], "expireTime": "2099-01-01T00:00:00.000Z"}


DEFAULT_OUTPUTS: dict[str, OutputFn] = {
    "alicloud:oss/bucket:Bucket": _oss_bucket,
    "alicloud:oss/bucketCnameToken:BucketCnameToken": _cname_token,
    "alicloud:cdn/domainNew:DomainNew": _cdn_domain,
    "alicloud:cdn/domain:Domain": _cdn_domain,
    "alicloud:dcdn/domain:Domain": _dcdn_domain,
    "alicloud:ecs/eipAddress:EipAddress": _eip,
    "alicloud:ecs/eip:Eip": _eip,
    "alicloud:alb/loadBalancer:LoadBalancer": _alb,
    "alicloud:nlb/loadBalancer:LoadBalancer": _nlb,
    "alicloud:slb/loadBalancer:LoadBalancer": _clb,
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": _clb,
    "alicloud:ecs/instance:Instance": _ecs_instance,
    "alicloud:vpc/network:Network": _vpc,
}


def _zones(rec: Recorder, args: MockCallArgs, region: str | None) -> Mapping[str, Any]:
    region = region or "cn-hangzhou"
    zones = [f"{region}-{letter}" for letter in ("b", "c", "d")]
    return {
        "ids": zones,
        "zones": [{"id": z, "zoneId": z, "localName": z} for z in zones],
        "id": region,
    }


DEFAULT_CALLS: dict[str, CallFn] = {
    "alicloud:alb/getZones:getZones": _zones,
}

# Resource types whose physical ID is one of their inputs/outputs (as the provider reports it).
_ID_FROM: dict[str, str] = {
    "alicloud:oss/bucket:Bucket": "bucket",
    "alicloud:cdn/domainNew:DomainNew": "domainName",
    "alicloud:cdn/domain:Domain": "domainName",
    "alicloud:dcdn/domain:Domain": "domainName",
}
