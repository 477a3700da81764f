"""The ``china-site`` package schema: what YAML, TypeScript, Go (and every other Pulumi language) see.

Written out, not inferred, so that every property carries a description a user can read, and so that no argument
is a union: a filing registry is a path or URL string, an origin is a host name (e.g. a ``WebBackend``'s
``dnsName`` output). Stack config names are the property names (``china-site:<property>``): a property left out of
a ``Site``/``WebBackend`` is read from there, as the Python program does.
"""

from __future__ import annotations

import functools
from typing import Any, Final

__all__ = ["PACKAGE", "SITE_CONFIG_KEYS", "schema", "version"]

PACKAGE: Final = "china-site"


@functools.cache
def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("china-site")
    except PackageNotFoundError:  # a checkout on PYTHONPATH
        return "0.0.0"


def _s(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _b(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _n(description: str) -> dict[str, Any]:
    return {"type": "number", "description": description}


def _i(description: str) -> dict[str, Any]:
    return {"type": "integer", "description": description}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _string_map(description: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": {"type": "string"}, "description": description}


_DECISION = {
    "domain": _s("The host name visitors use (Unicode or punycode), e.g. www.mingyue-tea.cn."),
    "hosting": _s(
        "Where the site may be hosted: mainland, hongkong or auto (default: auto = the mainland when the filing "
        "registry allows it, else Hong Kong). mainland for a domain without an approved ICP filing through Alibaba "
        "Cloud fails before anything is created."
    ),
    "mainlandRegion": _s("The mainland region to use (default cn-shanghai)."),
    "filings": _s(
        "The filing registry: a YAML path (relative to the program's folder), oss://BUCKET/KEY or s3://BUCKET/KEY. "
        "Unset: no filing can be shown, so auto chooses Hong Kong and mainland fails."
    ),
    "payments": _b("True when the site takes payments (needs a commercial ICP permit on the mainland)."),
    "platform": _b("True when the site hosts third-party sellers (needs a B21/EDI permit)."),
    "today": _s("The ISO date the filing rules are evaluated on (default: today); set it for reproducible runs."),
    "extraTags": _string_map("Tags added to every child that takes tags, next to the compliance tags."),
}

SITE_INPUTS: Final[dict[str, Any]] = {
    **_DECISION,
    "contentDir": _s(
        "A folder to upload into the site's bucket (relative to the program's folder); only changed files upload."
    ),
    "contentExclude": _strings(
        "Glob patterns (on the object key) of files never uploaded from contentDir (default: VCS folders, .env*, "
        ".npmrc, private keys …; .well-known/ is kept)."
    ),
    "contentTakeOverExisting": _b(
        "Let the content overwrite (and own from then on) objects already in the bucket that it did not upload "
        "(default false: the deploy fails naming them)."
    ),
    "dnsZone": _s("An Alibaba Cloud DNS zone to create the site's record in, e.g. mingyue-tea.cn."),
    "certificate": {
        "$ref": "#/types/china-site:index:SiteCertificate",
        "description": "The site's TLS certificate and key; turns on HTTPS (and HTTP→HTTPS on the CDN).",
    },
    "cdn": _b("False to serve from the bucket's own custom domain instead of the CDN (default true)."),
    "cdnGlobal": _b("True for CDN scope global instead of domestic on the mainland (default false)."),
    "domainVerified": _b(
        "True once Alibaba Cloud CDN has verified that the account owns the root domain (skips the TXT record "
        "check before the CDN domain)."
    ),
    "verificationTimeout": _n("Seconds the CDN ownership check waits for the TXT record to be seen (default 600)."),
    "origin": _s(
        "A host name the CDN fetches from instead of the bucket, e.g. a WebBackend's dnsName output. With an origin "
        "the site has no bucket (contentDir is then an error)."
    ),
    "bucketName": _s("The OSS bucket name (default: derived from the domain and the stack name)."),
    "indexDocument": _s("The index document of every folder (default index.html)."),
    "errorDocument": _s("The document served with a 404 (default 404.html)."),
}

SITE_OUTPUTS: Final[dict[str, Any]] = {
    "url": _s("The site's URL (https when a certificate is given)."),
    "hosting": _s("The hosting decision: mainland or hongkong."),
    "region": _s("The Alibaba Cloud region the site was placed in."),
    "cdnScope": _s("The CDN scope (domestic, overseas or global); empty without the CDN."),
    "bucketName": _s("The OSS bucket's name; empty for a site with an origin."),
    "cdnCname": _s("The CNAME target of the CDN domain; empty without the CDN."),
    "icpNumber": _s("The ICP filing number the homepage must show; empty outside the mainland."),
    "psbNumber": _s("The PSB (public security) filing number, once filed; empty otherwise."),
    "footerHtml": _s("An HTML footer showing the filing numbers with the links the rules require."),
}

BACKEND_INPUTS: Final[dict[str, Any]] = {
    **_DECISION,
    "imageId": _s("The ECS image the servers boot."),
    "certificateId": _s("The ID of the domain's certificate in Alibaba Cloud's Certificate Management Service."),
    "instanceType": _s("The ECS instance type (default ecs.g7.large)."),
    "instanceCount": _i("How many servers (default 2), spread over two zones."),
    "zones": _strings("Two zone IDs (default: the first two zones where ALB is available in the chosen region)."),
    "vpcCidr": _s("The VPC's private IPv4 CIDR, /8 to /22 (default 10.0.0.0/16)."),
    "appPort": _i("The port the servers listen on for the load balancer's forwarding: 80 or 443 (default 80)."),
    "healthCheckPath": _s("The load balancer's health check path (default /)."),
    "userData": _s("ECS user data (cloud-init) for the servers."),
}

BACKEND_OUTPUTS: Final[dict[str, Any]] = {
    "url": _s("The backend's URL (https on the load balancer)."),
    "dnsName": _s("The load balancer's DNS name: a Site's origin."),
    "hosting": _s("The hosting decision: mainland or hongkong."),
    "region": _s("The Alibaba Cloud region the backend was placed in."),
    "loadBalancerId": _s("The ALB instance ID."),
    "vpcId": _s("The VPC ID."),
    "instanceIds": _strings("The ECS instance IDs."),
}

CONTENT_INPUTS: Final[dict[str, Any]] = {
    "bucket": _s("The OSS bucket to sync into (the bucket must exist)."),
    "contentDir": _s("The local folder to upload (relative to the program's folder)."),
    "region": _s("The bucket's region; the endpoint is oss-<region>.aliyuncs.com unless endpoint is set."),
    "domain": _s("The site's domain (recorded; the homepage-footer policy reads it)."),
    "icpNumber": _s("The ICP filing number the homepage must show (mainland)."),
    "psbNumber": _s("The PSB filing number the homepage must show once filed (mainland)."),
    "mainland": _b("True when the site is hosted on the mainland: the homepage footer is then checked."),
    "prefix": _s("A key prefix inside the bucket (default: none). A change replaces the resource."),
    "endpoint": _s("An OSS endpoint URL instead of the region's (or CHINA_SITE_OSS_ENDPOINT)."),
    "cachePolicy": {
        "$ref": "#/types/china-site:index:CachePolicy",
        "description": "Cache-Control per object (default: HTML no-cache, fingerprinted assets immutable, else 1 h).",
    },
    "indexDocument": _s("The homepage checked for the filing numbers (default index.html)."),
    "maxWorkers": _i("Parallel uploads (default 8)."),
    "exclude": _strings("Glob patterns (on the key) of files never uploaded (default: VCS, .env*, private keys …)."),
    "takeOverExisting": _b(
        "Let this resource overwrite (and own from then on) objects at its keys that it did not upload "
        "(default false: refused, naming them)."
    ),
    "owner": _s(
        "The owner mark written on every object this resource uploads; only objects with it are ever deleted "
        "(default: china-site)."
    ),
    "files": _string_map(
        "Key → sha256 of every file to upload. Computed from contentDir when left out (the Python component sets it "
        "at program time)."
    ),
    "icpNumberDisplayed": _b("Whether the homepage shows the ICP number (computed from contentDir when left out)."),
    "psbNumberDisplayed": _b("Whether the homepage shows the PSB number (computed when left out; empty if unfiled)."),
    "icpNumberLinked": _b("Whether the ICP number links to beian.miit.gov.cn (computed when left out)."),
    "psbNumberLinked": _b("Whether the PSB number links to beian.mps.gov.cn (computed when left out)."),
    "homepageProblems": _strings("What the homepage footer lacks, bilingual (computed when left out)."),
}

CONTENT_OUTPUTS: Final[dict[str, Any]] = {
    **CONTENT_INPUTS,
    "manifest": {
        "type": "object",
        "additionalProperties": {"$ref": "#/types/china-site:index:ManifestEntry"},
        "description": "Key → what was uploaded (sha256, etag, size, content type, cache control).",
    },
    "objectCount": _i("How many objects this resource uploaded and owns."),
}

VERIFY_INPUTS: Final[dict[str, Any]] = {
    "domain": _s("The domain (ASCII) to be added to the CDN."),
    "root": _s("Its root (registrable) domain, whose ownership Alibaba Cloud CDN checks."),
}

OWNERSHIP_INPUTS: Final[dict[str, Any]] = {
    **VERIFY_INPUTS,
    "recordFqdn": _s("The TXT record that proves ownership: verification.<root domain>."),
    "recordType": _s("The record type (TXT)."),
    "recordValue": _s("The record's value (verify_…), when known; the error message names it."),
    "verifyType": _s("How CDN checks: dnsCheck."),
    "timeoutSeconds": _n("Seconds to keep checking until the record is seen (default 600)."),
    "intervalSeconds": _n("Seconds between checks (default 15)."),
}

# Properties of Site/WebBackend that fall back to the stack config china-site:<name> when left out.
SITE_CONFIG_KEYS: Final = (
    "domain",
    "hosting",
    "mainlandRegion",
    "filings",
    "contentDir",
    "payments",
    "platform",
    "dnsZone",
    "cdn",
    "cdnGlobal",
    "domainVerified",
    "verificationTimeout",
    "bucketName",
    "today",
)

_TYPES: Final[dict[str, Any]] = {
    "china-site:index:SiteCertificate": {
        "type": "object",
        "description": "A TLS certificate for the site's domain; both values are kept as secrets.",
        "properties": {
            "certificate": _s("The PEM certificate chain.", secret=True),
            "privateKey": _s("The PEM private key.", secret=True),
        },
        "required": ["certificate", "privateKey"],
    },
    "china-site:index:CachePolicy": {
        "type": "object",
        "description": "Cache-Control values per kind of object.",
        "properties": {
            "html": _s("For HTML (default no-cache)."),
            "immutable": _s("For fingerprinted assets (default public, max-age=31536000, immutable)."),
            "default": _s("For everything else (default public, max-age=3600)."),
            "hashedPattern": _s("The regular expression (on the file name) of a fingerprinted asset."),
            "overrides": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "string"}},
                "description": "[glob, Cache-Control] pairs that win over the rest, first match first.",
            },
        },
    },
    "china-site:index:ManifestEntry": {
        "type": "object",
        "description": "One uploaded object.",
        "properties": {
            "sha256": _s("The content's SHA-256."),
            "etag": _s("The object's ETag."),
            "size": _i("Bytes."),
            "content_type": _s("The Content-Type it was uploaded with."),
            "cache_control": _s("The Cache-Control it was uploaded with."),
        },
    },
}


def _resource(description: str, inputs: dict[str, Any], outputs: dict[str, Any], required: list[str], **kw: Any):
    return {
        "description": description,
        "inputProperties": inputs,
        "requiredInputs": required,
        "properties": outputs,
        "required": [],
        **kw,
    }


@functools.cache
def schema() -> dict[str, Any]:
    """The package schema (a fresh dict each process; treat it as read-only)."""
    return {
        "name": PACKAGE,
        "displayName": "china-site",
        "version": version(),
        "description": (
            "Websites for Chinese users on Alibaba Cloud, on the mainland or in Hong Kong, within China's ICP/PSB "
            "filing rules: the hosting decision at program time, OSS + CDN + DNS + TLS, content sync."
        ),
        "keywords": ["pulumi", "alicloud", "china", "icp", "category/cloud", "kind/component"],
        "license": "Apache-2.0",
        "repository": "https://github.com/china-site/china-site",
        "publisher": "china-site",
        "config": {
            "variables": {key: {**(SITE_INPUTS.get(key) or _DECISION[key])} for key in SITE_CONFIG_KEYS},
        },
        "provider": {"description": "The china-site provider (no settings of its own: it reads the stack config)."},
        "types": _TYPES,
        "resources": {
            "china-site:index:Site": _resource(
                "A static website (OSS + CDN + DNS + TLS) in mainland China or Hong Kong, where the filing rules "
                "allow it. The hosting decision runs when the program runs: a refusal creates nothing.",
                SITE_INPUTS,
                SITE_OUTPUTS,
                [],
                isComponent=True,
            ),
            "china-site:index:WebBackend": _resource(
                "ECS servers behind an internet-facing ALB with HTTP→HTTPS, in the region the filing rules allow; its "
                "dnsName can be a Site's origin.",
                BACKEND_INPUTS,
                BACKEND_OUTPUTS,
                ["imageId", "certificateId"],
                isComponent=True,
            ),
            "china-site:index:SiteContent": _resource(
                "A local folder kept in sync with an OSS bucket: only changed files upload, only objects this "
                "resource uploaded (owner mark) are ever deleted or overwritten.",
                CONTENT_INPUTS,
                CONTENT_OUTPUTS,
                ["bucket", "contentDir", "region", "domain"],
            ),
            "china-site:index:DomainVerifyContent": _resource(
                "The content of the TXT record that proves a root domain is the account's (DescribeVerifyContent).",
                VERIFY_INPUTS,
                {**VERIFY_INPUTS, "content": _s("The record's value (verify_…).")},
                ["domain", "root"],
            ),
            "china-site:index:DomainOwnership": _resource(
                "Alibaba Cloud CDN's domain ownership check (VerifyDomainOwner, retried until the TXT record is seen "
                "or the timeout); a CDN domain waits for it.",
                OWNERSHIP_INPUTS,
                {
                    **OWNERSHIP_INPUTS,
                    "verified": _b("True once VerifyDomainOwner passed."),
                    "attempts": _i("How many checks it took."),
                },
                ["domain", "root"],
            ),
        },
        "language": {
            "python": {"respectSchemaVersion": True},
            "nodejs": {"respectSchemaVersion": True},
            "go": {
                "importBasePath": "github.com/china-site/china-site/sdk/go/chinasite",
                "respectSchemaVersion": True,
            },
        },
    }
