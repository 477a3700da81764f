"""CDN domain ownership verification: ``DescribeVerifyContent`` → a DNS TXT record → ``VerifyDomainOwner``.

Since 2020 Alibaba Cloud CDN refuses the first ``AddCdnDomain`` of a domain on an account with
``DomainOwnerVerifyFail`` until the account has proved it owns the domain's **root domain** (its registrable
domain): ``DescribeVerifyContent`` gives a value ``verify_<32 hex>``; a TXT record with that value at
``verification.<root domain>`` (host record ``verification`` in the root domain's zone) proves it; then
``VerifyDomainOwner`` with ``VerifyType=dnsCheck`` checks it. Once verified, the domain and its subdomains never need
it again on that account (and the record may be removed). Sources: Alibaba Cloud CDN "Verify the ownership of a
domain name" (help/en/cdn/getting-started/verify-domain-name-ownership: ``nslookup -qt=txt verification.example.com``
for ``image.example.com``), API references DescribeVerifyContent and VerifyDomainOwner (CDN 2018-05-10).

DCDN has the same check under its own API (``DescribeDcdnVerifyContent``/``VerifyDcdnDomainOwner``); no component
of ours creates DCDN domains, so only the CDN API is used.

The SDK (``alibabacloud-cdn20180510``) is imported on first use. Credentials come from the environment exactly as
:mod:`china_site.live` reads them (``ALIBABA_CLOUD_ACCESS_KEY_ID``/``_SECRET`` or the provider's
``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``); ``CHINA_SITE_CDN_ENDPOINT`` overrides the endpoint (a local test
server). ``CHINA_SITE_CDN_TIMEOUT`` (seconds, default 5) is the overall deadline of each call. Secrets never reach a
message; the API's error codes are escaped and cut, and a verification value that is not ``verify_`` + 32 hex
digits is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from china_site.deadline import call_with_deadline
from china_site.errors import ChinaSiteError
from china_site.live import (
    DEFAULT_ENDPOINT,
    Credentials,
    _describe,
    cdn_client,
    cdn_runtime,
    credentials_from,
    endpoint_from,
)
from china_site.redact import safe_code, safe_url

__all__ = [
    "RECORD_HOST",
    "VERIFY_FAILED",
    "OwnershipClient",
    "OwnershipError",
    "VerificationRecord",
    "client_from_env",
    "instructions",
    "verification_record",
]

RECORD_HOST: Final = "verification"
RECORD_TYPE: Final = "TXT"
VERIFY_FAILED: Final = "DomainOwnerVerifyFail"
VALUE_PLACEHOLDER: Final = "<the value DescribeVerifyContent returns, verify_…>"


class OwnershipError(ChinaSiteError):
    """The verification could not be done (API error, no credentials, record not seen in time). ``code``: the
    Alibaba Cloud error code when the API gave one."""

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        code: str | None = None,
        record: VerificationRecord | None = None,
    ):
        self.code = code
        self.record = record
        super().__init__(what, where=where, fix=fix)

    def line(self) -> str:
        """The one line of :class:`ChinaSiteError`, then, when a record must be created, :func:`instructions` whole
        (English and Chinese: the clipped ``fix`` would cut the Chinese half off, as the real engine showed)."""
        head = super().line()
        if self.record is None:
            return head
        from china_site.safeio import clip, printable

        # Our own text around the API's value: long enough for both languages (~1,000 characters), still bounded.
        return f"{head} {printable(clip(' '.join(instructions(self.record).split(chr(10))), 2000))}"


@dataclass(frozen=True)
class VerificationRecord:
    """The TXT record that proves ownership: ``host`` inside the zone of ``root`` (``fqdn`` = host.root)."""

    domain: str  # the CDN domain (ASCII)
    root: str  # its registrable domain: the zone the record goes into
    value: str | None  # verify_…, None when not known (offline)

    host: str = RECORD_HOST
    type: str = RECORD_TYPE

    @property
    def fqdn(self) -> str:
        return f"{self.host}.{self.root}"


def verification_record(domain: str, value: str | None = None) -> VerificationRecord:
    """The record for ``domain`` (any host name; verification is per root domain)."""
    from china_site import domains

    host = domains.to_ascii(domain)
    root = domains.registrable_domain(host) or host
    return VerificationRecord(domain=host, root=root, value=value)


def instructions(record: VerificationRecord) -> str:
    """What to create, in English then Chinese (host, type, value), and how to say it is done."""
    value = record.value or VALUE_PLACEHOLDER
    return (
        f"Alibaba Cloud CDN must verify that this account owns {record.root} before it accepts {record.domain} "
        f"(else AddCdnDomain fails with {VERIFY_FAILED}). Create this DNS record at your DNS provider: "
        f"host {record.fqdn} (host record '{record.host}' in zone {record.root}), type {record.type}, "
        f"value {value}. Then run pulumi up again; once verified (or if this account already serves a CDN domain "
        f"under {record.root}), set china-site:domainVerified true (or SiteArgs domain_verified=True), or set dnsZone "
        "to let the program create the record in Alibaba Cloud DNS.\n"
        f"阿里云 CDN 需要先验证本账号对 {record.root} 的归属权才能添加 {record.domain}（否则 AddCdnDomain 报错 "
        f"{VERIFY_FAILED}）。请在域名解析服务商处添加记录：主机 {record.fqdn}（在 {record.root} 中的主机记录为 "
        f"'{record.host}'），类型 {record.type}，记录值 {value}。然后重新运行 pulumi up；验证通过后（或本账号已有 "
        f"{record.root} 下的 CDN 域名）设置 "
        "china-site:domainVerified 为 true，或设置 dnsZone 由程序在阿里云云解析中创建该记录。"
    )


Sleep = Callable[[float], None]
Clock = Callable[[], float]


TIMEOUT_ENV: Final = "CHINA_SITE_CDN_TIMEOUT"
DEFAULT_TIMEOUT: Final = 5.0
# DescribeVerifyContent's value: "verify_" and 32 hex digits (an MD5). Anything else is refused before it is printed
# or becomes the value of a DNS record.
_VERIFY_CONTENT: Final = re.compile(r"verify_[0-9a-fA-F]{32}")


class OwnershipClient:
    """DescribeVerifyContent and VerifyDomainOwner through the CDN SDK (or ``call`` in tests)."""

    def __init__(self, *, credentials: Credentials | None, endpoint: str = DEFAULT_ENDPOINT, timeout: float = 5.0):
        self._credentials = credentials
        self._endpoint = endpoint
        self._shown = safe_url(endpoint)  # scheme://host[:port]: never user info, path, parameters or query
        self._timeout = timeout
        self._client: Any = None

    # -- the two calls ------------------------------------------------------------------------------------------

    def verify_content(self, domain: str) -> str:
        """The ``verify_…`` value for ``domain`` (DescribeVerifyContent). Raises OwnershipError."""
        from alibabacloud_cdn20180510 import models as cdn_models

        body = self._call(
            "DescribeVerifyContent",
            lambda client, runtime: client.describe_verify_content_with_options(
                cdn_models.DescribeVerifyContentRequest(domain_name=domain), runtime
            ),
            domain,
        )
        content = getattr(body, "content", None)
        if not isinstance(content, str) or not content.strip():
            raise OwnershipError(
                f"DescribeVerifyContent gave no verification content for {domain}",
                where=f"CDN API {self._shown}",
                fix="retry later, or take the value from the CDN console (Add Domain Name → verify ownership)",
            )
        value = content.strip()
        if not _VERIFY_CONTENT.fullmatch(value):
            from china_site.safeio import clip, printable

            raise OwnershipError(
                f"DescribeVerifyContent gave a value for {domain} that is not verify_ followed by 32 hex digits "
                f"({printable(clip(repr(value), 60))}); it is neither shown as the record to create nor written to "
                "DNS / DescribeVerifyContent 返回的验证值格式不正确，不会写入 DNS",
                where=f"CDN API {self._shown}",
                fix="check CHINA_SITE_CDN_ENDPOINT (a proxy rewriting answers?), or take the value from the CDN "
                "console (Add Domain Name → verify ownership)",
            )
        return value

    def verify_once(self, domain: str) -> bool:
        """VerifyDomainOwner (dnsCheck): True when the account owns the domain, False on DomainOwnerVerifyFail."""
        from alibabacloud_cdn20180510 import models as cdn_models

        try:
            self._call(
                "VerifyDomainOwner",
                lambda client, runtime: client.verify_domain_owner_with_options(
                    cdn_models.VerifyDomainOwnerRequest(domain_name=domain, verify_type="dnsCheck"), runtime
                ),
                domain,
            )
        except OwnershipError as err:
            if err.code == VERIFY_FAILED:
                return False
            raise
        return True

    def verify(
        self,
        domain: str,
        record: VerificationRecord,
        *,
        timeout: float = 600.0,
        interval: float = 15.0,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
    ) -> int:
        """VerifyDomainOwner until it passes or ``timeout`` seconds have gone (DNS takes time to be seen).

        Returns the number of calls made (1 = already verified or the record was already visible). Raises
        OwnershipError with the record to create when it never passes.
        """
        deadline = clock() + timeout
        attempts = 0
        while True:
            attempts += 1
            if self.verify_once(domain):
                return attempts
            if clock() + interval > deadline:
                raise OwnershipError(
                    f"Alibaba Cloud CDN did not verify ownership of {record.root} for {domain} after {attempts} "
                    f"attempts ({VERIFY_FAILED}) / 阿里云 CDN 未能验证 {record.root} 的归属权",
                    where=f"TXT record {record.fqdn}",
                    fix="create the record below, wait until DNS shows it, then run pulumi up again / "
                    "按下述说明添加记录，解析生效后重新运行 pulumi up",
                    code=VERIFY_FAILED,
                    record=record,
                )
            sleep(interval)

    # -- transport ---------------------------------------------------------------------------------------------

    def _call(self, action: str, send: Callable[[Any, Any], Any], domain: str) -> Any:
        if self._credentials is None:
            raise OwnershipError(
                f"no Alibaba Cloud credentials to call {action} for {domain}",
                where="environment",
                fix="set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (or ALICLOUD_ACCESS_KEY and "
                "ALICLOUD_SECRET_KEY), as for the alicloud provider",
            )
        runtime = cdn_runtime(self._timeout)
        try:
            # The timeout bounds the whole call, not each read: a trickling endpoint cannot hold `pulumi up`.
            response = call_with_deadline(
                lambda: send(self._sdk_client(), runtime), self._timeout, name=f"china-site-{action}"
            )
        except Exception as exc:  # transport or API error: one line, the API's code (escaped, cut), never a secret
            code = safe_code(getattr(exc, "code", None))
            reason = _describe(exc)
            raise OwnershipError(
                f"{action} for {domain} failed: {reason}",
                where=f"CDN API {self._shown}",
                fix="check the credentials (RAM permission cdn:DescribeVerifyContent / cdn:VerifyDomainOwner) and "
                "the network, then run pulumi up again",
                code=code,
            ) from None
        return getattr(response, "body", None)

    def _sdk_client(self) -> Any:
        if self._client is not None:
            return self._client
        creds = self._credentials
        assert creds is not None
        self._client = cdn_client(creds, self._endpoint, self._timeout)
        return self._client


def client_from_env(environ: Mapping[str, str], *, timeout: float | None = None) -> OwnershipClient:
    """The client for this environment's credentials and endpoint (``CHINA_SITE_CDN_ENDPOINT``). ``timeout``: the
    overall deadline of each call in seconds; ``CHINA_SITE_CDN_TIMEOUT`` when set, else ``timeout``, else 5."""
    from china_site.deadline import seconds_from_env

    seconds = seconds_from_env(environ, TIMEOUT_ENV, timeout if timeout is not None else DEFAULT_TIMEOUT)
    return OwnershipClient(credentials=credentials_from(environ), endpoint=endpoint_from(environ), timeout=seconds)
