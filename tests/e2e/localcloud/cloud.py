"""The local cloud itself: resources kept as JSON files, plausible computed outputs, the call log, data sources.

Environment (read when used, so a test can change it between plugin starts):

- ``LOCALCLOUD_STATE``: a directory; one JSON file per resource (``<type>/<id>.json``), secrets sealed (a digest,
  never the value). Required for anything that touches resources (Create, Read, Update, Delete): unset, those
  calls fail with a message naming it — a test that forgot it would otherwise scatter state in the project folder.
- ``LOCALCLOUD_LOG``: a file; one JSON line per gRPC call, secrets shown as ``"[secret]"``. Unset: no log.
- ``LOCALCLOUD_S3_ENDPOINT``: optional, an S3-compatible server (moto) standing in for OSS: creating an
  ``alicloud:oss/bucket:Bucket`` creates the bucket there, deleting it deletes it (``BucketNotEmpty`` unless
  ``forceDestroy``, as OSS does), and refresh reports a bucket deleted behind Pulumi's back as gone.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import secrets as _random
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .wire import UNKNOWN, is_secret, redact, reveal, seal, secret, unwrap

# Keys whose values are credentials or keys wherever they appear: treated as secrets even when the engine sends them
# plainly (CheckConfig and Configure's ``variables`` never carry the secret bit; the real provider marks its
# Sensitive attributes secret in its outputs).
SENSITIVE_KEYS = frozenset(
    {"accessKey", "secretKey", "securityToken", "privateKey", "password", "kmsEncryptedPassword", "secretAccessKey"}
)
_SENSITIVE_CONFIG = re.compile(r"(key|secret|token|password)", re.IGNORECASE)

# Inputs whose change replaces the resource (Terraform ``ForceNew``), for the types the sample programs create.
# Sources: aliyun/terraform-provider-alicloud alicloud/resource_alicloud_<type>.go.
FORCE_NEW: dict[str, frozenset[str]] = {
    "alicloud:oss/bucket:Bucket": frozenset({"bucket"}),
    "alicloud:oss/bucketCname:BucketCname": frozenset({"bucket", "domain"}),
    "alicloud:oss/bucketCnameToken:BucketCnameToken": frozenset({"bucket", "domain"}),
    "alicloud:oss/bucketAcl:BucketAcl": frozenset({"bucket"}),
    "alicloud:oss/bucketWebsite:BucketWebsite": frozenset({"bucket"}),
    "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock": frozenset({"bucket"}),
    "alicloud:cdn/domainNew:DomainNew": frozenset({"domainName", "cdnType"}),
    "alicloud:cdn/domainConfig:DomainConfig": frozenset({"domainName", "functionName"}),
    "alicloud:vpc/switch:Switch": frozenset({"vpcId", "zoneId", "cidrBlock"}),
    "alicloud:ecs/securityGroup:SecurityGroup": frozenset({"vpcId"}),
}

# Id prefixes of the real services, so ids look like the cloud's.
_ID_PREFIX = {
    "vpc/network": "vpc-",
    "vpc/switch": "vsw-",
    "ecs/securityGroup": "sg-",
    "ecs/instance": "i-",
    "alb/loadBalancer": "alb-",
    "alb/serverGroup": "sgp-",
    "alb/listener": "lsn-",
    "alb/rule": "rule-",
}


class CloudError(Exception):
    """What the cloud API answered: the provider turns it into a failed gRPC call with this message."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _module(token: str) -> str:
    """``alicloud:oss/bucket:Bucket`` → ``oss/bucket``."""
    parts = token.split(":")
    return parts[1] if len(parts) == 3 else token


# ---------------------------------------------------------------------------------------------------------------------
# Call log


class CallLog:
    _lock = threading.Lock()

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    @classmethod
    def from_env(cls) -> CallLog:
        return cls(os.environ.get("LOCALCLOUD_LOG") or None)

    def record(self, method: str, **fields: Any) -> None:
        if self.path is None:
            return
        entry = {"time": _now(), "pid": os.getpid(), "method": method}
        entry.update({k: _log_value(k, v) for k, v in fields.items() if v is not None})
        line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # several plugin processes (one per provider) share the file
            fh.write(line)
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _log_value(key: str, value: Any) -> Any:
    if key == "variables" and isinstance(value, dict):
        return {k: "[secret]" if _SENSITIVE_CONFIG.search(k.rsplit(":", 1)[-1]) else v for k, v in value.items()}
    return redact(mark_sensitive(value))


def mark_sensitive(value: Any, *, config: bool = False) -> Any:
    """Values under a sensitive key wrapped as secrets (``config``: provider configuration, broader names)."""
    if isinstance(value, dict) and not is_secret(value):
        out: dict[str, Any] = {}
        for k, v in value.items():
            sensitive = k in SENSITIVE_KEYS or (config and bool(_SENSITIVE_CONFIG.search(k)))
            if sensitive and v is not None and not is_secret(v) and v != UNKNOWN:
                out[k] = secret(v)
            else:
                out[k] = mark_sensitive(v, config=config)
        return out
    if isinstance(value, list):
        return [mark_sensitive(v, config=config) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------------------------
# State


class StateStore:
    def __init__(self, root: str | None = None) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        root = self._root or os.environ.get("LOCALCLOUD_STATE")
        if not root:
            raise CloudError(
                "localcloud: LOCALCLOUD_STATE is not set in the plugin's environment (the pulumi CLI's); "
                "use the local_cloud fixture's env (tests/e2e/localcloud/README.md)"
            )
        return Path(root)

    def _path(self, token: str, rid: str) -> Path:
        return self.root / quote(token, safe="") / f"{quote(rid, safe='')}.json"

    def load(self, token: str, rid: str) -> dict[str, Any] | None:
        path = self._path(token, rid)
        if not path.is_file():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def save(self, token: str, rid: str, urn: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        path = self._path(token, rid)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"type": token, "id": rid, "urn": urn, "inputs": seal(inputs), "outputs": seal(outputs)}
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def delete(self, token: str, rid: str) -> bool:
        path = self._path(token, rid)
        if path.is_file():
            path.unlink()
            return True
        return False

    def all(self) -> list[dict[str, Any]]:
        if not self.root.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.root.glob("*/*.json"))]


# ---------------------------------------------------------------------------------------------------------------------
# OSS buckets in the S3 stand-in (moto)


def _s3() -> Any | None:
    endpoint = os.environ.get("LOCALCLOUD_S3_ENDPOINT")
    if not endpoint:
        return None
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def _bucket_exists(s3: Any, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        return False
    return True


def _create_bucket(name: str) -> bool:
    """Create the bucket in the stand-in; False when it already existed (a shared server: adopted, as the same
    account's bucket)."""
    s3 = _s3()
    if s3 is None:
        return True
    if _bucket_exists(s3, name):
        return False
    s3.create_bucket(Bucket=name)
    return True


def _delete_bucket(name: str, *, force: bool) -> None:
    s3 = _s3()
    if s3 is None or not _bucket_exists(s3, name):
        return
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    if keys and not force:
        raise CloudError(
            f"[ERROR] resource_alicloud_oss_bucket.go: Resource {name} DeleteBucket "
            f"Failed!!! BucketNotEmpty: The bucket you tried to delete is not empty ({len(keys)} object(s), "
            "forceDestroy is false)"
        )
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})
    s3.delete_bucket(Bucket=name)


def _bucket_gone(name: str) -> bool:
    s3 = _s3()
    return s3 is not None and not _bucket_exists(s3, name)


# ---------------------------------------------------------------------------------------------------------------------
# Resources


def _random_hex(n: int = 16) -> str:
    return _random.token_hex(n // 2)


def _new_id(token: str, ins: dict[str, Any]) -> str:
    mod = _module(token)
    v = {k: reveal(x) for k, x in ins.items()}
    if mod == "oss/bucket":
        return str(v["bucket"])
    if mod in ("oss/bucketAcl", "oss/bucketWebsite", "oss/bucketPublicAccessBlock"):
        return str(v["bucket"])
    if mod in ("oss/bucketCname", "oss/bucketCnameToken"):
        return f"{v['bucket']}:{v['domain']}"
    if mod == "cdn/domainNew":
        return str(v["domainName"])
    if mod == "cdn/domainConfig":
        return f"{v['domainName']}:{v['functionName']}:{_random.randbelow(10**12):d}"
    if mod == "dns/alidnsRecord":
        return str(10**18 + _random.randbelow(9 * 10**18))
    prefix = _ID_PREFIX.get(mod, mod.split("/")[-1].lower() + "-")
    return f"{prefix}{_random_hex(20)}"


def computed_outputs(token: str, rid: str, ins: dict[str, Any], region: str) -> dict[str, Any]:
    """Plausible values for the outputs a real create computes (only those the inputs do not set)."""
    mod = _module(token)
    v = {k: reveal(x) for k, x in ins.items()}
    out: dict[str, Any] = {}
    if mod == "oss/bucket":
        out = {
            "extranetEndpoint": f"oss-{region}.aliyuncs.com",
            "intranetEndpoint": f"oss-{region}-internal.aliyuncs.com",
            "location": f"oss-{region}",
            "creationDate": dt.date.today().isoformat(),
            "owner": "localcloud-account",
            "storageClass": "Standard",
            "redundancyType": "LRS",
            "acl": "private",
        }
    elif mod == "oss/bucketCnameToken":
        out = {"token": _random_hex(32)}
    elif mod == "oss/bucketCname":
        out = {"status": "Enabled"}
        cert = v.get("certificate")
        if isinstance(cert, dict):
            out["certificate"] = {
                **ins["certificate"],
                "type": "Upload",
                "status": "Enabled",
                "certId": cert.get("certId") or f"{_random.randbelow(10**8)}-{region}",
                "fingerprint": _random_hex(40),
                "creationDate": _now(),
                "validStartDate": _now(),
                "validEndDate": "2036-01-01T00:00:00Z",
            }
    elif mod == "cdn/domainNew":
        out = {"cname": f"{v['domainName']}.w.kunlunca.com", "status": "online", "scope": "domestic"}
    elif mod == "cdn/domainConfig":
        out = {"configId": rid.rsplit(":", 1)[-1], "status": "success"}
    elif mod == "dns/alidnsRecord":
        out = {"status": "ENABLE", "ttl": 600, "line": "default"}
    elif mod == "vpc/network":
        out = {"routeTableId": f"vtb-{_random_hex(20)}", "routerId": f"vrt-{_random_hex(20)}", "status": "Available"}
    elif mod == "vpc/switch":
        out = {"status": "Available"}
    elif mod == "ecs/instance":
        out = {"privateIp": f"10.0.{_random.randbelow(250)}.{_random.randbelow(250) + 2}", "status": "Running"}
    elif mod == "alb/loadBalancer":
        out = {"dnsName": f"{rid}.{region}.alb.aliyuncsslb.com", "status": "Active"}
    elif mod in ("alb/serverGroup", "alb/listener", "alb/rule"):
        out = {"status": "Available"}
    return {k: val for k, val in out.items() if k not in ins or (k == "certificate")}


def region_of(config: dict[str, Any]) -> str:
    region = unwrap(config.get("region"))
    if isinstance(region, str) and region and region != UNKNOWN:
        return region
    return os.environ.get("ALIBABA_CLOUD_REGION_ID") or os.environ.get("ALICLOUD_REGION") or "cn-beijing"


def create(
    store: StateStore, token: str, urn: str, ins: dict[str, Any], region: str, *, preview: bool
) -> tuple[str, dict[str, Any]]:
    from .schema import resource_schema

    ins = mark_sensitive(ins)
    if preview:
        schema = resource_schema(token)
        outs = dict(ins)
        for key in schema.computed_only:
            outs[key] = UNKNOWN
        for key in computed_outputs(token, "preview", ins, region):
            outs[key] = UNKNOWN
        return "", outs
    rid = _new_id(token, ins)
    if store.load(token, rid) is not None:
        raise CloudError(_conflict(token, rid))
    if _module(token) == "oss/bucket":
        _create_bucket(rid)
    outs = {**ins, **computed_outputs(token, rid, ins, region)}
    store.save(token, rid, urn, ins, outs)
    return rid, outs


def _conflict(token: str, rid: str) -> str:
    mod = _module(token)
    if mod == "oss/bucket":
        return f"BucketAlreadyExists: The requested bucket name {rid} is not available"
    if mod == "cdn/domainNew":
        return f"DomainAlreadyExist: The domain {rid} already exists"
    return f"ResourceAlreadyExists: {token} {rid} already exists"


def read(
    store: StateStore, token: str, rid: str, engine_outputs: dict[str, Any], engine_inputs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    from .wire import unseal

    record = store.load(token, rid)
    if record is None:
        return None
    if _module(token) == "oss/bucket" and _bucket_gone(rid):
        store.delete(token, rid)
        return None
    return unseal(record["outputs"], engine_outputs), unseal(record["inputs"], engine_inputs or engine_outputs)


def update(
    store: StateStore,
    token: str,
    rid: str,
    urn: str,
    olds: dict[str, Any],
    news: dict[str, Any],
    region: str,
    *,
    preview: bool,
) -> dict[str, Any]:
    from .schema import resource_schema

    news = mark_sensitive(news)
    schema = resource_schema(token)
    computed = {k: v for k, v in olds.items() if k not in schema.inputs.properties}
    outs = {**computed, **news}
    if not preview:
        if store.load(token, rid) is None:
            raise CloudError(f"EntityNotExist: {token} {rid} does not exist (deleted outside Pulumi?)")
        store.save(token, rid, urn, news, outs)
    return outs


def delete(store: StateStore, token: str, rid: str, props: dict[str, Any]) -> None:
    if _module(token) == "oss/bucket":
        _delete_bucket(rid, force=bool(reveal(props.get("forceDestroy"))))
    store.delete(token, rid)


# ---------------------------------------------------------------------------------------------------------------------
# Data sources (Invoke)


def invoke(token: str, args: dict[str, Any], region: str) -> dict[str, Any]:
    if token == "alicloud:alb/getZones:getZones":
        zones = [f"{region}-{letter}" for letter in ("b", "e", "f", "g")] if region.startswith("cn-") else []
        if region == "cn-hongkong":
            zones = ["cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"]
        return {
            "id": region,
            "ids": zones,
            "zones": [{"id": z, "zoneId": z, "localName": f"Zone {z[-1].upper()}"} for z in zones],
        }
    raise CloudError(f"localcloud: no data source {token} (add it to tests/e2e/localcloud/cloud.py invoke)")
