"""The Pulumi program: one ``Site`` (optionally fronting a ``WebBackend``) from the stack's ``china-site:*`` config.

Stack configuration (``pulumi config set china-site:<key> <value>``; keys live in the ``china-site`` namespace).
A bare ``pulumi config set <key>`` writes ``<project>:<key>``: in this project (named ``china-site``) that is the same
key; in a project with another name the program reads ``<project>:<key>`` too, and ``china-site:<key>`` wins when
both are set. The policy pack and ``china-site preflight`` read only ``china-site:<key>``, so write the namespace.

==================  ===========================================================================================
key                 meaning
==================  ===========================================================================================
``domain``          required: the host name visitors use, e.g. ``www.mingyue-tea.cn``
``hosting``         ``mainland`` | ``hongkong`` | ``auto`` (default ``auto``: mainland when the registry allows)
``mainlandRegion``  the mainland region to use (default ``cn-shanghai``)
``filings``         the filing registry: a path (relative to this project), ``oss://BUCKET/KEY`` or
                    ``s3://BUCKET/KEY``; unset = no registry (``auto`` goes to Hong Kong, ``mainland`` fails)
``contentDir``      a folder to upload into the site's bucket (relative to this project)
``payments``        ``true`` when the site takes payments (needs a commercial permit on the mainland)
``platform``        ``true`` when it hosts third-party sellers (needs a B21/EDI permit)
``dnsZone``         an Alibaba Cloud DNS zone to create the site's record in, e.g. ``mingyue-tea.cn``
``cdn``             ``false`` to serve from the bucket's own custom domain instead of the CDN (default ``true``)
``cdnGlobal``       ``true`` for CDN scope ``global`` instead of ``domestic`` on the mainland
``domainVerified``  ``true`` once Alibaba Cloud CDN has verified the account owns the root domain (no check)
``verificationTimeout``  seconds the CDN ownership check waits for the TXT record to be seen (default 600)
``certificate``     secret: the site's TLS certificate chain (PEM); with ``certificateKey`` turns on HTTPS
``certificateKey``  secret: its private key (PEM)
``bucketName``      the OSS bucket name (default: from the domain and the stack name)
``today``           ISO date the filing rules are evaluated on (default: today); for reproducible runs
``backend``         optional object: ``{imageId, certificateId, instanceType?, instanceCount?, zones?}`` — ECS
                    servers behind an ALB (``WebBackend``) that the CDN fronts instead of the bucket
==================  ===========================================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from china_site.components.backend import WebBackend, WebBackendArgs
from china_site.components.site import Site, SiteArgs, SiteCertificate, surface

PROJECT_DIR = Path(__file__).resolve().parent


def _local(path: str | None) -> str | None:
    """A relative path is relative to the project directory; URIs (oss://, s3://) are left as they are."""
    if not path or "://" in path:
        return path
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else PROJECT_DIR / p)


def _verification_timeout(config: Any) -> float:
    seconds = config.get_float("verificationTimeout")
    if seconds is None:
        return 600.0
    if not seconds > 0:  # 0, negative, NaN: the check would give up at once (or never), silently
        from china_site.errors import InputError

        raise surface(
            InputError(
                f"verificationTimeout must be a number of seconds above 0 (got {seconds!r})",
                where="stack config china-site:verificationTimeout",
                fix="pulumi config set verificationTimeout 600, or remove it for the default (600 s)",
            )
        )
    return seconds


def _certificate(config: _Config) -> SiteCertificate | None:
    certificate = config.get_secret("certificate")
    key = config.get_secret("certificateKey")
    if (certificate is None) != (key is None):
        from china_site.errors import InputError

        raise surface(
            InputError(
                "only one of certificate and certificateKey is set",
                where="stack config china-site:certificate / china-site:certificateKey",
                fix='set both (pulumi config set --secret certificate -- "$(cat cert.pem)", and the same for '
                "certificateKey with the key), or neither",
            )
        )
    if certificate is None or key is None:
        return None
    return SiteCertificate(certificate=certificate, private_key=key)


def _backend(config: _Config, site_args: SiteArgs) -> WebBackend | None:
    spec: Any = config.get_object("backend")
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec.get("imageId") or not spec.get("certificateId"):
        from china_site.errors import InputError

        raise surface(
            InputError(
                "backend needs imageId and certificateId",
                where="stack config china-site:backend",
                fix="pulumi config set --path backend.imageId <image> and backend.certificateId <CAS certificate id>",
            )
        )
    zones = spec.get("zones")
    count = spec.get("instanceCount", 2)
    if (zones is not None and not isinstance(zones, list)) or isinstance(count, bool) or not isinstance(count, int):
        from china_site.errors import InputError

        raise surface(
            InputError(
                f"backend.zones must be a list of two zone IDs and backend.instanceCount a whole number "
                f"(got zones {zones!r}, instanceCount {count!r})",
                where="stack config china-site:backend",
                fix='pulumi config set --path backend.instanceCount 2; zones as a list: --path "backend.zones[0]" '
                'cn-shanghai-e and "backend.zones[1]" cn-shanghai-f (or leave zones out)',
            )
        )
    return WebBackend(
        "backend",
        WebBackendArgs(
            domain=site_args.domain,
            image_id=str(spec["imageId"]),
            certificate_id=str(spec["certificateId"]),
            hosting=site_args.hosting,
            mainland_region=site_args.mainland_region,
            filings=site_args.filings,
            payments=site_args.payments,
            platform=site_args.platform,
            instance_type=str(spec.get("instanceType", "ecs.g7.large")),
            instance_count=count,
            zones=tuple(str(z) for z in zones) if zones is not None else None,  # type: ignore[arg-type]  # checked
            today=site_args.today,
        ),
    )


class _Config:
    """``china-site:<key>``, else ``<project>:<key>`` (a bare ``pulumi config set`` in a project of another name)."""

    def __init__(self) -> None:
        project = pulumi.get_project()
        self._namespaces = [pulumi.Config("china-site")]
        if project != "china-site":
            self._namespaces.append(pulumi.Config(project))

    def _first(self, read: str, key: str) -> Any:
        for config in self._namespaces:
            value = getattr(config, read)(key)
            if value is not None:
                return value
        return None

    def get(self, key: str) -> str | None:
        return self._first("get", key)  # type: ignore[no-any-return]

    def get_bool(self, key: str) -> bool | None:
        return self._first("get_bool", key)  # type: ignore[no-any-return]

    def get_float(self, key: str) -> float | None:
        return self._first("get_float", key)  # type: ignore[no-any-return]

    def get_object(self, key: str) -> Any:
        return self._first("get_object", key)

    def get_secret(self, key: str) -> pulumi.Output[str] | None:
        return self._first("get_secret", key)  # type: ignore[no-any-return]

    def require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            from china_site.errors import InputError

            raise surface(
                InputError(
                    f"stack config china-site:{key} is not set",
                    where=f"stack {pulumi.get_stack()}",
                    fix=f"pulumi config set china-site:{key} <value>",
                )
            )
        return value


def main() -> None:
    config = _Config()
    filings = _local(config.get("filings"))
    args = SiteArgs(
        domain=config.require("domain"),
        hosting=config.get("hosting") or "auto",  # type: ignore[arg-type]  # checked by the component
        mainland_region=config.get("mainlandRegion") or "cn-shanghai",
        filings=filings,
        payments=config.get_bool("payments") or False,
        platform=config.get_bool("platform") or False,
        content_dir=_local(config.get("contentDir")),
        dns_zone=config.get("dnsZone"),
        certificate=_certificate(config),
        cdn=config.get_bool("cdn") is not False,
        cdn_global=config.get_bool("cdnGlobal") or False,
        domain_verified=config.get_bool("domainVerified") or False,
        verification_timeout=_verification_timeout(config),
        bucket_name=config.get("bucketName"),
        today=config.get("today"),
    )
    backend = _backend(config, args)
    if backend is not None:
        args.origin = backend  # the CDN fronts the load balancer (contentDir then is an error: no bucket)
    site = Site("site", args)

    pulumi.export("url", site.url)
    pulumi.export("hosting", site.hosting)
    pulumi.export("region", site.region)
    pulumi.export("cdn_scope", site.cdn_scope)
    pulumi.export("bucket_name", site.bucket_name)
    pulumi.export("cdn_cname", site.cdn_cname)
    pulumi.export("icp_number", site.icp_number)
    pulumi.export("psb_number", site.psb_number)
    pulumi.export("footer_html", site.footer_html)
    if backend is not None:
        pulumi.export("backend_dns_name", backend.dns_name)


main()
