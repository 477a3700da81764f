"""``Site`` (``china-site:index:Site``): a whole static website on Alibaba Cloud, where the filing rules allow it.

The component asks the compliance core where the site may be hosted (:func:`china_site.hosting.decide`) **at
program time**, before it registers anything: ``hosting: mainland`` for a domain without an approved ICP filing
through Alibaba Cloud fails then, with the core's bilingual message, instead of failing at apply time with
``DomainNotRegistration`` or ``NoSuchCnameInRecord``. Then it creates, all as its children (``parent=self``) and all
through one explicit ``alicloud.Provider`` for the chosen region (so the region is visible to the policy pack):

* an OSS bucket — private, public access blocked, with a website configuration (index/error documents);
* optionally the content (``SiteContent``, when ``content_dir`` is given);
* a CDN domain (``cdn.DomainNew``) with the bucket as origin through CDN's private-bucket back-to-source
  (``l2_oss_key``/``private_oss_auth``), a rewrite of directory URLs to their index document, HTTPS with the user's
  certificate and key (secrets) when given and then HTTP→HTTPS; the scope comes from the decision: ``domestic`` (or
  ``global``) only with an approved filing, otherwise ``overseas``;
* without CDN: the bucket's own custom domain (``oss.BucketCname`` with its ownership token);
* a DNS record at Alibaba Cloud DNS when ``dns_zone`` is given;
* CDN domain ownership verification before the CDN domain (:mod:`china_site.components.ownership`): with
  ``dns_zone`` the TXT record ``verification.<root domain>`` is created and ``VerifyDomainOwner`` checked; without
  it the program prints the record to create (English and Chinese) first. ``domain_verified=True`` skips both;
* compliance tags (:mod:`components.tags`) on every child that takes tags.

A ``WebBackend`` (or any host name) can replace the bucket as the CDN's origin (``origin=``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from china_site.components.placement import (
    _ascii_domain,
    _input_error,
    decide_for,
    decide_hosting,
    placement,
    refuse_caller_provider,
    surface,
)
from china_site.errors import ChinaSiteError
from china_site.hosting import DEFAULT_MAINLAND_REGION, HostingDecision, HostingMode

if TYPE_CHECKING:
    import pulumi_alicloud as alicloud

    from china_site.components.backend import WebBackend
    from china_site.filings import FilingRegistry
    from china_site.model import RuleOptions
    from china_site.ownership import VerificationRecord

__all__ = [
    "SITE_TYPE",
    "Site",
    "SiteArgs",
    "SiteCertificate",
    "decide_hosting",
    "default_bucket_name",
    "relative_record",
    "surface",
]

SITE_TYPE = "china-site:index:Site"

_DNS_TTL = 600


# ---------------------------------------------------------------------------------------------------------------------
# Arguments


@dataclass(frozen=True)
class SiteCertificate:
    """A TLS certificate for the site's domain: PEM chain and PEM private key. Both are made Pulumi secrets."""

    certificate: pulumi.Input[str]
    private_key: pulumi.Input[str]


@dataclass
class SiteArgs:
    """Inputs of :class:`Site`.

    ``domain``: the host name visitors use (Unicode or punycode). ``hosting``: ``mainland`` | ``hongkong`` | ``auto``
    (mainland when the registry allows, else Hong Kong). ``filings``: the filing registry — a path, ``oss://``/``s3://``
    URI or an already loaded :class:`~china_site.filings.FilingRegistry`; ``None`` means no filing can be shown (so
    ``auto`` chooses Hong Kong and ``mainland`` fails). ``today``: the date the rules are evaluated on (a date or an
    ISO string; default: today) — set it for reproducible runs. ``domain_verified``: the account already proved it
    owns the domain's root domain to Alibaba Cloud CDN (no verification step); ``verification_timeout``: seconds the
    verification step waits for the TXT record to be seen. ``provider_args``: the Alibaba Cloud
    provider settings (an ``alicloud.ProviderArgs`` or a dict of its keyword names: profile, access keys,
    assume-role, endpoints …) the component's own regional provider is built from; its ``region`` is ignored (the
    decision sets it). Default: the stack's ``alicloud:`` config, as the default provider would read it.
    """

    domain: str
    hosting: HostingMode = "auto"
    mainland_region: str = DEFAULT_MAINLAND_REGION
    filings: str | FilingRegistry | None = None
    payments: bool = False
    platform: bool = False
    content_dir: str | None = None
    # Files never uploaded from content_dir (glob patterns; None = china_site.sync.DEFAULT_EXCLUDE) and whether
    # objects already in the bucket that this site did not upload may be overwritten (default: refused).
    content_exclude: Sequence[str] | None = None
    content_take_over_existing: bool = False
    dns_zone: str | None = None
    certificate: SiteCertificate | None = None
    cdn: bool = True
    cdn_global: bool = False
    domain_verified: bool = False
    verification_timeout: float = 600.0
    origin: pulumi.Input[str] | WebBackend | None = None
    bucket_name: str | None = None
    index_document: str = "index.html"
    error_document: str = "404.html"
    today: dt.date | str | None = None
    rule_options: RuleOptions | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)
    provider_args: alicloud.ProviderArgs | dict[str, Any] | None = None


def relative_record(domain: str, zone: str) -> str:
    """The record name (``rr``) of ``domain`` inside DNS ``zone``: ``www`` for www.example.cn in example.cn, ``@``
    for the apex. Both must be ASCII lower case. Raises InputError when the domain is not inside the zone."""
    zone = zone.rstrip(".")
    if domain == zone:
        return "@"
    if domain.endswith("." + zone):
        return domain[: -len(zone) - 1]
    raise _input_error(
        f"domain {domain} is not inside the DNS zone {zone}",
        where="Site args dns_zone / china-site:dnsZone",
        fix=f"set dns_zone to the zone that holds {domain} (e.g. its registrable domain), or leave it out",
    )


_BUCKET_BAD = re.compile(r"[^a-z0-9-]+")


def default_bucket_name(domain: str, stack: str) -> str:
    """A deterministic OSS bucket name (3–63 of ``a-z 0-9 -``, starting and ending alphanumeric) for a domain."""
    base = _BUCKET_BAD.sub("-", f"{domain}-{stack}".lower())
    base = re.sub(r"-{3,}", "--", base).strip("-")[:63].strip("-")
    return base if len(base) >= 3 else f"site-{base}".strip("-")


# ---------------------------------------------------------------------------------------------------------------------
# The component


class Site(pulumi.ComponentResource):
    """A static website (OSS + CDN + DNS + TLS) in mainland China or Hong Kong, as the filing rules allow.

    Outputs: ``url``, ``hosting``, ``region``, ``cdn_scope``, ``bucket_name``, ``cdn_cname``, ``icp_number``,
    ``psb_number``, ``footer_html``. The program-time decision is also available as ``decision``.
    """

    url: pulumi.Output[str]
    hosting: pulumi.Output[str]
    region: pulumi.Output[str]
    cdn_scope: pulumi.Output[str | None]
    bucket_name: pulumi.Output[str | None]
    cdn_cname: pulumi.Output[str | None]
    icp_number: pulumi.Output[str | None]
    psb_number: pulumi.Output[str | None]
    footer_html: pulumi.Output[str]

    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Everything that can refuse the site runs before anything is registered: a refusal creates nothing.
        where = f"Site '{name}'"
        domain = _ascii_domain(args.domain, where)
        origin_mode = args.origin is not None
        if origin_mode and not args.cdn:
            raise _input_error(
                "an origin (backend) needs the CDN in front of it",
                where=f"{where} origin",
                fix="set cdn to true, or leave origin out to serve from the bucket",
            )
        if origin_mode and args.content_dir:
            raise _input_error(
                "content_dir uploads to the site's bucket, but a site with an origin has no bucket",
                where=f"{where} content_dir",
                fix="leave content_dir out, or serve from the bucket (no origin)",
            )
        record = relative_record(domain, _ascii_domain(args.dns_zone, where)) if args.dns_zone else None
        # Behind the CDN the bucket is private: only the CDN is public, and a CDN needs only a valid filing from any
        # provider. Without the CDN the bucket serves the site itself: Alibaba Cloud hosts the origin.
        products = ("cdn",) if args.cdn else ("oss",)
        decision = decide_for(domain, args, where, cdn_global=args.cdn_global, products=products)
        footer_html = _footer(decision)
        verification, verification_rr = _verification_plan(domain, args, where)

        # Without a DNS zone the user creates the ownership record: say which one before anything is created.
        if verification is not None and verification_rr is None:
            from china_site.ownership import instructions

            pulumi.log.warn(instructions(_with_program_time_value(verification)))

        refuse_caller_provider(opts, where)
        super().__init__(SITE_TYPE, name, None, opts)
        self.decision = decision
        self.domain = domain
        tags, self.provider, child = placement(self, name, domain, decision, args)
        self._name = name
        self._tags = tags
        self._child = child

        https = args.certificate is not None
        self.bucket: alicloud.oss.Bucket | None = None
        self.cdn: alicloud.cdn.DomainNew | None = None
        self.content: pulumi.Resource | None = None
        cdn_scope: str | None = decision.cdn_scope if args.cdn else None

        if not origin_mode:
            bucket_name = args.bucket_name or default_bucket_name(domain, pulumi.get_stack())
            self.bucket = self._bucket(bucket_name, args, public=not args.cdn)
            if args.content_dir:
                self.content = self._content(args, args.content_dir, decision)

        certificate = _secret_certificate(args.certificate)
        self.ownership: pulumi.Resource | None = None
        if args.cdn:
            if verification is not None:
                self.ownership = self._ownership(args, verification, verification_rr)
            self.cdn = self._cdn(args, decision, certificate)
            if record is not None and args.dns_zone:
                self.dns_record: pulumi.Resource | None = self._record(
                    "dns", args.dns_zone, record, "CNAME", self.cdn.cname
                )
            else:
                self.dns_record = None
        else:
            self.dns_record = self._bucket_domain(args, record, certificate)

        self.url = pulumi.Output.from_input(f"{'https' if https else 'http'}://{_display(domain)}/")
        self.hosting = pulumi.Output.from_input(decision.hosting)
        self.region = pulumi.Output.from_input(decision.region)
        self.cdn_scope = pulumi.Output.from_input(cdn_scope)
        self.bucket_name = self.bucket.bucket if self.bucket is not None else pulumi.Output.from_input(None)
        self.cdn_cname = self.cdn.cname if self.cdn is not None else pulumi.Output.from_input(None)
        self.icp_number = pulumi.Output.from_input(decision.icp_number)
        self.psb_number = pulumi.Output.from_input(decision.psb_number)
        self.footer_html = pulumi.Output.from_input(footer_html)
        self.register_outputs(
            {
                "url": self.url,
                "hosting": self.hosting,
                "region": self.region,
                "cdn_scope": self.cdn_scope,
                "bucket_name": self.bucket_name,
                "cdn_cname": self.cdn_cname,
                "icp_number": self.icp_number,
                "psb_number": self.psb_number,
                "footer_html": self.footer_html,
            }
        )

    # -- OSS ---------------------------------------------------------------------------------------------------------

    def _bucket(self, bucket_name: str, args: SiteArgs, *, public: bool) -> alicloud.oss.Bucket:
        """The bucket, its ACL, its public access block and its website configuration.

        Behind the CDN the bucket is private and public access is blocked: the CDN reads it through private-bucket
        back-to-source. Without the CDN, visitors read the bucket through its custom domain directly, which OSS only
        serves for a public-read bucket.
        """
        import pulumi_alicloud as alicloud

        n, child = self._name, self._child
        bucket = alicloud.oss.Bucket(
            f"{n}-bucket",
            bucket=bucket_name,
            storage_class="Standard",
            tags=self._tags,
            # The name is global and kept on replacement (e.g. a hosting move to another region): delete first.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=True)),
        )
        on_bucket = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[bucket]))
        self.public_access_block = alicloud.oss.BucketPublicAccessBlock(
            f"{n}-public-access-block",
            bucket=bucket.bucket,
            block_public_access=not public,
            opts=on_bucket,
        )
        self.acl = alicloud.oss.BucketAcl(
            f"{n}-acl",
            bucket=bucket.bucket,
            acl="public-read" if public else "private",
            opts=pulumi.ResourceOptions.merge(on_bucket, pulumi.ResourceOptions(depends_on=[self.public_access_block])),
        )
        self.website = alicloud.oss.BucketWebsite(
            f"{n}-website",
            bucket=bucket.bucket,
            index_document=alicloud.oss.BucketWebsiteIndexDocumentArgs(
                suffix=args.index_document, support_sub_dir=True, type="0"
            ),
            error_document=alicloud.oss.BucketWebsiteErrorDocumentArgs(key=args.error_document, http_status=404),
            opts=on_bucket,
        )
        return bucket

    def _content(self, args: SiteArgs, content_dir: str, decision: HostingDecision) -> pulumi.Resource:
        from china_site.components.content import SiteContent, SiteContentArgs

        assert self.bucket is not None
        return SiteContent(
            f"{self._name}-content",
            SiteContentArgs(
                bucket=self.bucket.bucket,
                content_dir=content_dir,
                region=decision.region,
                domain=self.domain,
                icp_number=decision.icp_number,
                psb_number=decision.psb_number,
                mainland=decision.hosting == "mainland",
                index_document=args.index_document,
                exclude=args.content_exclude,
                take_over_existing=args.content_take_over_existing,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.bucket, self.acl, self.website]),
        )

    def _bucket_domain(
        self, args: SiteArgs, record: str | None, certificate: SiteCertificate | None
    ) -> pulumi.Resource | None:
        """No CDN: the bucket's own custom domain, after its ownership TXT record and its CNAME exist."""
        import pulumi_alicloud as alicloud

        assert self.bucket is not None
        n, child, bucket = self._name, self._child, self.bucket
        token = alicloud.oss.BucketCnameToken(f"{n}-cname-token", bucket=bucket.bucket, domain=self.domain, opts=child)
        self.cname_token = token.token
        depends: list[pulumi.Resource] = [self.website]
        cname_record: pulumi.Resource | None = None
        if record is not None and args.dns_zone:
            txt = self._record("dns-verify", args.dns_zone, _dnsauth(record), "TXT", token.token)
            cname_record = self._record(
                "dns",
                args.dns_zone,
                record,
                "CNAME",
                pulumi.Output.concat(bucket.bucket, ".", bucket.extranet_endpoint),
            )
            depends += [txt, cname_record]
        # Only what the provider accepts as input (alicloud_oss_bucket_cname `certificate`: cert_id, certificate,
        # private_key). `type`, `status`, `fingerprint`, `creation_date` and the validity dates are computed by OSS,
        # although BucketCnameCertificateArgs lists them.
        cert = (
            alicloud.oss.BucketCnameCertificateArgs(
                certificate=certificate.certificate, private_key=certificate.private_key
            )
            if certificate is not None
            else None
        )
        self.bucket_cname = alicloud.oss.BucketCname(
            f"{n}-cname",
            bucket=bucket.bucket,
            domain=self.domain,
            certificate=cert,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=depends, delete_before_replace=True)
            ),
        )
        return cname_record

    # -- CDN ---------------------------------------------------------------------------------------------------------

    def _cdn(
        self, args: SiteArgs, decision: HostingDecision, certificate: SiteCertificate | None
    ) -> alicloud.cdn.DomainNew:
        import pulumi_alicloud as alicloud

        n, child = self._name, self._child
        if self.bucket is not None:
            source = alicloud.cdn.DomainNewSourceArgs(
                type="oss",
                content=pulumi.Output.concat(self.bucket.bucket, ".", self.bucket.extranet_endpoint),
                port=443,
                priority=20,
                weight=10,
            )
        else:
            source = alicloud.cdn.DomainNewSourceArgs(
                type="domain", content=_origin_host(args.origin), port=443, priority=20, weight=10
            )
        cert = (
            alicloud.cdn.DomainNewCertificateConfigArgs(
                cert_type="upload",
                server_certificate=certificate.certificate,
                private_key=certificate.private_key,
                server_certificate_status="on",
            )
            if certificate is not None
            else None
        )
        depends: list[pulumi.Resource] = (
            [self.acl, self.public_access_block, self.website] if self.bucket is not None else []
        )
        if self.ownership is not None:  # AddCdnDomain only after VerifyDomainOwner passed
            depends.append(self.ownership)
        cdn = alicloud.cdn.DomainNew(
            f"{n}-cdn",
            domain_name=self.domain,
            cdn_type="web",
            scope=decision.cdn_scope,
            sources=[source],
            certificate_config=cert,
            tags=self._tags,
            # One CDN domain per host name in all of Alibaba Cloud: a replacement must delete the old one first.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=depends, delete_before_replace=True)
            ),
        )
        configs: list[tuple[str, str, Sequence[tuple[str, str]]]] = []
        if self.bucket is not None:
            # The bucket stays private: CDN signs its back-to-source requests (same account, STS through the
            # AliyunCDNAccessingPrivateOSSRole service role, authorised once per account).
            configs.append(("private-oss", "l2_oss_key", [("private_oss_auth", "on")]))
            # "/" (and any directory URL) would reach OSS as a bucket listing, refused for a private bucket.
            configs.append(
                (
                    "index-rewrite",
                    "back_to_origin_url_rewrite",
                    [("source_url", "^(.*)/$"), ("target_url", f"$1/{args.index_document}"), ("flag", "break")],
                )
            )
        if certificate is not None:
            configs.append(("https-force", "https_force", [("enable", "on")]))
        # One at a time: the domain's configuration changes are applied in order, never concurrently.
        self.cdn_configs: list[alicloud.cdn.DomainConfig] = []
        for suffix, function, fn_args in configs:
            previous = self.cdn_configs[-1:]
            self.cdn_configs.append(
                alicloud.cdn.DomainConfig(
                    f"{n}-{suffix}",
                    domain_name=cdn.domain_name,
                    function_name=function,
                    function_args=[
                        alicloud.cdn.DomainConfigFunctionArgArgs(arg_name=key, arg_value=value)
                        for key, value in fn_args
                    ],
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=previous)),
                )
            )
        return cdn

    # -- Ownership verification (CDN) --------------------------------------------------------------------------------

    def _ownership(self, args: SiteArgs, verification: VerificationRecord, rr: str | None) -> pulumi.Resource:
        """The verification chain: [verify content → TXT record →] the ownership check the CDN domain waits for."""
        from china_site.components.ownership import DomainOwnership, DomainVerifyContent

        n = self._name
        value: pulumi.Input[str] | None = None
        depends: list[pulumi.Resource] = []
        if rr is not None and args.dns_zone:
            content = DomainVerifyContent(
                f"{n}-verify-content", verification.domain, verification.root, pulumi.ResourceOptions(parent=self)
            )
            self.verification_record = self._record(
                "dns-ownership", args.dns_zone, rr, "TXT", content.content, depends_on=[content]
            )
            value = content.content
            depends.append(self.verification_record)
        return DomainOwnership(
            f"{n}-domain-ownership",
            domain=verification.domain,
            root=verification.root,
            record_fqdn=verification.fqdn,
            record_value=value,
            timeout_seconds=args.verification_timeout,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

    # -- DNS ---------------------------------------------------------------------------------------------------------

    def _record(
        self,
        suffix: str,
        zone: str,
        rr: str,
        kind: str,
        value: pulumi.Input[str],
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> pulumi.Resource:
        import pulumi_alicloud as alicloud

        return alicloud.dns.AlidnsRecord(
            f"{self._name}-{suffix}",
            domain_name=_ascii_zone(zone),
            rr=rr,
            type=kind,
            value=value,
            ttl=_DNS_TTL,
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=list(depends_on)))
            if depends_on
            else self._child,
        )


# ---------------------------------------------------------------------------------------------------------------------
# Helpers


def _ascii_zone(zone: str) -> str:
    from china_site.domains import to_ascii

    return to_ascii(zone)


def _verification_plan(domain: str, args: SiteArgs, where: str) -> tuple[VerificationRecord | None, str | None]:
    """(the ownership record, its host record inside ``dns_zone`` or None) — (None, None) when no check is needed
    (no CDN, or ``domain_verified``). Raises InputError when ``dns_zone`` cannot hold ``verification.<root>``."""
    if not args.cdn or args.domain_verified:
        return None, None
    from china_site.ownership import verification_record

    record = verification_record(domain)
    if not args.dns_zone:
        return record, None
    zone = _ascii_domain(args.dns_zone, where).rstrip(".")
    if record.fqdn != zone and not record.fqdn.endswith("." + zone):
        raise _input_error(
            f"CDN ownership verification needs a TXT record at {record.fqdn}, which is outside the DNS zone {zone}",
            where=f"{where} dns_zone / china-site:dnsZone",
            fix=f"use the zone of the root domain ({record.root}), or create the record yourself and set "
            "domain_verified (china-site:domainVerified) once Alibaba Cloud has verified it",
        )
    return record, record.fqdn[: -len(zone) - 1]


def _offline() -> bool:
    """Under Pulumi's mocks (preflight, tests) nothing may call the cloud; ``CHINA_SITE_OFFLINE=1`` forces it."""
    import os

    if os.environ.get("CHINA_SITE_OFFLINE", "").strip() in ("1", "true"):
        return True
    from pulumi.runtime import mocks, settings

    return isinstance(getattr(settings.SETTINGS, "monitor", None), mocks.MockMonitor)


def _with_program_time_value(record: VerificationRecord) -> VerificationRecord:
    """The record with its value from DescribeVerifyContent, when online and the API answers; else unchanged (the
    message then says where the value comes from)."""
    if _offline():
        return record
    import os
    from dataclasses import replace

    from china_site.ownership import OwnershipError, client_from_env

    try:
        client = client_from_env(os.environ, timeout=3.0)
    except ChinaSiteError as err:  # CHINA_SITE_CDN_TIMEOUT is not a number of seconds: one line, no traceback
        raise surface(err) from None
    try:
        return replace(record, value=client.verify_content(record.domain))
    except (OwnershipError, ImportError) as err:
        pulumi.log.info(f"DescribeVerifyContent not available now: {err}")
        return record


def _dnsauth(record: str) -> str:
    """OSS's ownership TXT record name for a record name: ``_dnsauth`` (apex) or ``_dnsauth.www``."""
    return "_dnsauth" if record == "@" else f"_dnsauth.{record}"


def _display(domain: str) -> str:
    from china_site.domains import to_unicode

    try:
        return to_unicode(domain)
    except ChinaSiteError:
        return domain


def _footer(decision: HostingDecision) -> str:
    from china_site.footer import render_footer

    try:
        return render_footer(decision.icp_number, decision.psb_number)
    except ChinaSiteError as err:
        raise surface(err) from None


def _secret_certificate(certificate: SiteCertificate | None) -> SiteCertificate | None:
    if certificate is None:
        return None
    return SiteCertificate(
        certificate=pulumi.Output.secret(certificate.certificate),
        private_key=pulumi.Output.secret(certificate.private_key),
    )


def _origin_host(origin: Any) -> pulumi.Input[str]:
    """A WebBackend's load balancer DNS name, or the host name given."""
    # Only a resource is asked for its dns_name: getattr on an Output (a host name from another program's or the
    # engine's output, e.g. a WebBackend's dnsName through the provider) would lift a missing attribute.
    if isinstance(origin, pulumi.Resource):
        return origin.dns_name  # type: ignore[attr-defined, no-any-return]
    return origin  # type: ignore[no-any-return]
