"""Optional live verification (``verify: live``): Alibaba Cloud CDN ``CheckCdnDomainICP``.

The registry stays the source of truth; the live answer can only make the verdict **stricter**:

* registry approves, API answers ``DomainNotRegistration`` → a mandatory ``icp-filing-required`` finding;
* registry does not approve, API answers ``DomainIsRegistration`` → the registry's finding stands, its fix says the
  API already sees a filing (record it in the registry);
* API unreachable, timed out, no credentials, unexpected answer → nothing changes (the registry decides): an
  unreachable API never approves a domain the registry does not approve.

The SDK (``alibabacloud-cdn20180510``) is imported on first use. Answers are cached per domain for the life of the
process (one ``pulumi preview``), failures included, so a dead endpoint costs one timeout per domain at most.
Credentials come from the environment (``ALIBABA_CLOUD_ACCESS_KEY_ID``/``_SECRET``, or the provider's
``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``) or stack config ``alicloud:accessKey``/``alicloud:secretKey``; they
are never written to messages or logs. ``CHINA_SITE_CDN_ENDPOINT`` overrides the endpoint (``http://host:port`` for a
local test server; default ``https://cdn.aliyuncs.com``). The timeout (``liveTimeoutSeconds``, default 3 s) is an
overall deadline per call: an endpoint that answers one byte at a time cannot hold the preview longer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from china_site.model import ICP_FILING_REQUIRED, MIIT_LINK, Exposure, Finding

__all__ = [
    "DEFAULT_ENDPOINT",
    "ENDPOINT_ENV",
    "Credentials",
    "LiveResult",
    "LiveVerifier",
    "cdn_client",
    "cdn_runtime",
    "credentials_from",
    "endpoint_from",
    "get_verifier",
    "reconcile",
]

ENDPOINT_ENV: Final = "CHINA_SITE_CDN_ENDPOINT"
DEFAULT_ENDPOINT: Final = "https://cdn.aliyuncs.com"

FILED: Final = "DomainIsRegistration"
NOT_FILED: Final = "DomainNotRegistration"

LiveStatus = Literal["filed", "not-filed", "unavailable"]


@dataclass(frozen=True)
class LiveResult:
    domain: str
    status: LiveStatus
    detail: str  # the API's status, or why no answer was had; never a secret


@dataclass(frozen=True)
class Credentials:
    access_key_id: str = field(repr=False)
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


_ENV_PAIRS: Final = (
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"),
    ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN"),
)


def credentials_from(environ: Mapping[str, str], stack_config: Mapping[str, str] | None = None) -> Credentials | None:
    """Access keys from the environment, else from stack config ``alicloud:accessKey``/``secretKey``; else None."""
    for key_id, secret, token in _ENV_PAIRS:
        if environ.get(key_id) and environ.get(secret):
            return Credentials(environ[key_id], environ[secret], environ.get(token) or None)
    config = stack_config or {}
    key_id_value, secret_value = config.get("alicloud:accessKey"), config.get("alicloud:secretKey")
    if key_id_value and secret_value:
        return Credentials(key_id_value, secret_value, config.get("alicloud:securityToken") or None)
    return None


def endpoint_from(environ: Mapping[str, str]) -> str:
    """The CDN API endpoint: ``CHINA_SITE_CDN_ENDPOINT`` (a local test server) or Alibaba Cloud's."""
    return (environ.get(ENDPOINT_ENV) or "").strip() or DEFAULT_ENDPOINT


def _millis(timeout: float) -> int:
    return max(1, int(timeout * 1000))


def cdn_client(credentials: Credentials, endpoint: str, timeout: float) -> Any:
    """A CDN (2018-05-10) SDK client for these keys and endpoint; the SDK is imported here, on first use."""
    from alibabacloud_cdn20180510.client import Client
    from alibabacloud_tea_openapi.utils_models import Config

    protocol, host = _split_endpoint(endpoint)
    millis = _millis(timeout)
    return Client(
        Config(
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token,
            endpoint=host,
            protocol=protocol,
            region_id="cn-hangzhou",
            read_timeout=millis,
            connect_timeout=millis,
        )
    )


def cdn_runtime(timeout: float) -> Any:
    """The SDK runtime options for one call: one attempt, no retry, ``timeout`` seconds to connect and to read."""
    from darabonba.runtime import RuntimeOptions

    millis = _millis(timeout)
    return RuntimeOptions(read_timeout=millis, connect_timeout=millis, autoretry=False, max_attempts=1)


def _split_endpoint(endpoint: str) -> tuple[str, str]:
    """(protocol, host[:port]) from ``http://h:p``, ``https://h`` or a bare host (HTTPS)."""
    text = endpoint.strip().rstrip("/")
    if "://" not in text:
        return "https", text
    parts = urlsplit(text)
    return (parts.scheme or "https").lower(), parts.netloc


def _describe(exc: BaseException) -> str:
    """A short, secret-free reason: timeout, connection refused, an API error code (escaped and cut), or the
    exception type."""
    from china_site.deadline import DeadlineExceeded
    from china_site.redact import safe_code

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DeadlineExceeded):
            return f"timeout: {current}"
        text = str(current).lower()
        if "timed out" in text or "timeout" in type(current).__name__.lower():
            return "timeout"
        code = safe_code(getattr(current, "code", None))
        if code is not None:
            return f"API error {code}"
        if "connection refused" in text or "failed to establish" in text or "max retries" in text:
            return "endpoint unreachable"
        inner = getattr(current, "inner_exception", None)
        current = inner if isinstance(inner, BaseException) else (current.__cause__ or current.__context__)
    return type(exc).__name__


Query = Callable[[str], str]  # domain → the API's Status string; raises on failure


class LiveVerifier:
    """Asks ``CheckCdnDomainICP`` once per domain; thread-safe (the pack serves requests from a thread pool)."""

    def __init__(
        self,
        *,
        credentials: Credentials | None,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 3.0,
        query: Query | None = None,
    ) -> None:
        self._credentials = credentials
        self._endpoint = endpoint
        self._timeout = timeout
        self._query = query
        self._cache: dict[str, LiveResult] = {}
        self._lock = threading.Lock()
        self._client: Any = None

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def check(self, domain: str) -> LiveResult:
        key = domain.strip().rstrip(".").lower()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._ask(key)
        with self._lock:
            return self._cache.setdefault(key, result)

    def _ask(self, domain: str) -> LiveResult:
        if self._query is None and self._credentials is None:
            return LiveResult(
                domain,
                "unavailable",
                "no Alibaba Cloud credentials (set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)",
            )
        from china_site.deadline import call_with_deadline

        query = self._query or self._sdk_query
        try:
            # The timeout bounds the whole call (connecting, the request, every byte of the answer), not each read.
            status = call_with_deadline(lambda: query(domain), self._timeout, name="china-site-live-check")
        except ImportError:
            return LiveResult(domain, "unavailable", "alibabacloud-cdn20180510 is not installed")
        except Exception as exc:  # any transport or API failure: no answer, the registry decides
            return LiveResult(domain, "unavailable", _describe(exc))
        if status == FILED:
            return LiveResult(domain, "filed", FILED)
        if status == NOT_FILED:
            return LiveResult(domain, "not-filed", NOT_FILED)
        shown = status[:40] if isinstance(status, str) else type(status).__name__
        return LiveResult(domain, "unavailable", f"unexpected answer {shown!r}")

    def _sdk_query(self, domain: str) -> str:
        from alibabacloud_cdn20180510 import models as cdn_models

        client = self._sdk_client()
        response = client.check_cdn_domain_icpwith_options(
            cdn_models.CheckCdnDomainICPRequest(domain_name=domain), cdn_runtime(self._timeout)
        )
        body = getattr(response, "body", None)
        return str(getattr(body, "status", None))

    def _sdk_client(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
        creds = self._credentials
        assert creds is not None
        client = cdn_client(creds, self._endpoint, self._timeout)
        with self._lock:
            self._client = self._client or client
            return self._client


_VERIFIERS: dict[tuple[str, float, str], LiveVerifier] = {}
_VERIFIERS_LOCK = threading.Lock()


def get_verifier(
    *, environ: Mapping[str, str], stack_config: Mapping[str, str] | None = None, timeout: float = 3.0
) -> LiveVerifier:
    """The process-wide verifier for this endpoint, timeout and access key (cache shared across policies)."""
    endpoint = endpoint_from(environ)
    creds = credentials_from(environ, stack_config)
    key = (endpoint, float(timeout), creds.access_key_id if creds else "")
    with _VERIFIERS_LOCK:
        verifier = _VERIFIERS.get(key)
        if verifier is None:
            verifier = _VERIFIERS[key] = LiveVerifier(credentials=creds, endpoint=endpoint, timeout=timeout)
        return verifier


# ---------------------------------------------------------------------------------------------------------------
# Reconciling the live answers with the registry's verdict (pure)


def _served_hosts(exposure: Exposure) -> list[str]:
    from china_site import domains
    from china_site.errors import ChinaSiteError

    hosts: list[str] = []
    for raw in exposure.domains:
        try:
            if domains.is_ip(raw):
                continue
            host = domains.to_ascii(raw)
        except ChinaSiteError:
            continue
        if host not in hosts:
            hosts.append(host)
    return hosts


def _what(exposure: Exposure) -> str:
    return exposure.resource + (f" '{exposure.name}'" if exposure.name else "")


def reconcile(
    exposure: Exposure,
    icp_findings: Iterable[Finding],
    check: Callable[[str], LiveResult],
) -> tuple[list[Finding], list[LiveResult]]:
    """The ICP findings after asking the API about each served host, and the answers that were not usable.

    Only mainland public exposures are checked. The registry's findings are kept; the API can add one (registry
    approves, API says not filed) or extend a fix (API already sees a filing the registry lacks).
    """
    findings = list(icp_findings)
    if not exposure.public or exposure.area != "mainland":
        return findings, []
    unavailable: list[LiveResult] = []
    for host in _served_hosts(exposure):
        result = check(host)
        mine = [i for i, f in enumerate(findings) if f.domain == host and f.policy == ICP_FILING_REQUIRED]
        if result.status == "unavailable":
            unavailable.append(result)
        elif result.status == "not-filed" and not mine:
            findings.append(
                Finding(
                    policy=ICP_FILING_REQUIRED,
                    enforcement="mandatory",
                    message_en=(
                        f"{_what(exposure)} serves {host} in mainland China; the filing registry approves it, but "
                        f"Alibaba Cloud's CheckCdnDomainICP answers {NOT_FILED} (no ICP filing on record)."
                    ),
                    message_zh=(
                        f"备案清单文件显示 {host} 已备案，但阿里云 CheckCdnDomainICP 返回 {NOT_FILED}"
                        "（未查到 ICP 备案）。"
                    ),
                    fix=(
                        "check the filing at beian.miit.gov.cn; if it was cancelled or does not cover this domain, "
                        "correct the registry and file the domain through Alibaba Cloud (or serve it from Hong Kong)"
                    ),
                    alibaba_error=f"{NOT_FILED} (AddCdnDomain)",
                    link=MIIT_LINK,
                    domain=host,
                    resource=exposure.resource,
                    need="icp-filing",
                )
            )
        elif result.status == "filed" and mine:
            for i in mine:
                finding = findings[i]
                findings[i] = replace(
                    finding,
                    fix=finding.fix.rstrip(".")
                    + f" (Alibaba Cloud's CheckCdnDomainICP already answers {FILED} for {host}: if the filing is "
                    "approved with Alibaba Cloud as access provider, record it in the registry; the live answer "
                    "alone never approves a domain)",
                )
    return findings, unavailable
