"""Host names, registrable domains and approved top-level domains (DOMAIN.md §3 rules 7–8).

- Host names are compared in ASCII: :func:`to_ascii` strips whitespace, a trailing dot and a leading ``*.``
  wildcard, applies IDNA 2008 with UTS #46 mapping (the ``idna`` package: case folding, full-width characters,
  ``。`` dots) and checks every label (letters, digits, hyphens; valid punycode). IP literals, URLs, ports and
  anything else raise :class:`~china_site.errors.InputError`.
- "Registrable domain" comes from the Public Suffix List shipped inside the ``publicsuffixlist`` package (never
  downloaded). Only the **ICANN section** is used: private suffixes such as ``github.io`` or ``myqcloud.com`` are
  run by companies, not registries, so they say nothing about which domain was registered and filed —
  ``x.github.io`` has the registrable domain ``github.io`` and the public suffix ``io``. Unknown TLDs count as
  one-label public suffixes (the PSL's default rule), so ``example.zzz`` is registrable and simply not approved.
- The approved-TLD list is data (``china_site/data/tlds.yaml``): ``approved``, ``restricted`` (approved for
  some holder kinds only, e.g. ``gov.cn`` for government bodies: :func:`tld_holders`) and ``disputed`` (``org``,
  ``dev``, ``tech``: not approved by default). A domain's suffix is checked from its most specific form to its last
  label: a longer suffix the data file lists that the PSL does not (``政务.cn``), then the public suffix and its tails
  (``com.cn`` then ``cn``); a user's ``denied`` entries win over everything, then ``extra`` approvals and the data
  file.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from typing import Literal

import idna
from publicsuffixlist import PublicSuffixList
from pydantic import BaseModel, ConfigDict, Field

from china_site import datafiles
from china_site.errors import InputError

__all__ = [
    "HolderKind",
    "TldStatus",
    "is_ip",
    "normalize_suffix",
    "registrable_domain",
    "tld_approved",
    "tld_holders",
    "tld_note",
    "tld_of",
    "tld_status",
    "to_ascii",
    "to_unicode",
    "top_label",
]

TldStatus = Literal["approved", "restricted", "disputed", "denied", "unlisted"]
# Who may hold a domain under a restricted suffix: the filing registry's entity types (filings.EntityType).
HolderKind = Literal["enterprise", "individual", "government", "institution", "other"]

_MAX_INPUT = 1024  # longer text cannot be a host name (253 octets max); refuse before doing any work
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# Labels IDNA leaves unchanged: _LABEL without "--" in positions 3-4 (so no xn-- label), dot-separated.
_PLAIN_LABEL = r"(?![a-z0-9-]{2}--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_HOST = re.compile(rf"{_PLAIN_LABEL}(?:\.{_PLAIN_LABEL})*")
_NOT_HOST = re.compile(r"[/:@?#\\\s]")
_FIX_HOST = "give a host name such as www.example.cn (no scheme, port, path or IP address)"


def _show(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


def is_ip(host: str) -> bool:
    """True when ``host`` is an IPv4 or IPv6 literal (brackets and surrounding whitespace allowed)."""
    if not isinstance(host, str) or len(host) > _MAX_INPUT:
        return False
    h = host.strip()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    # Cheap pre-check: without a colon only dotted ASCII decimal can be an address (IPv6 needs two colons).
    if ":" not in h and not (h.isascii() and h.replace(".", "").isdigit()):
        return False
    try:
        ipaddress.ip_address(h)
    except ValueError:
        return False
    return True


def to_ascii(host: str) -> str:
    """Canonical ASCII (punycode, lower case) form of a host name; InputError when it is not a valid host name."""
    if not isinstance(host, str):
        raise InputError(f"expected a host name as text, got {type(host).__name__}", where="host name", fix=_FIX_HOST)
    if len(host) > _MAX_INPUT:
        raise InputError(
            f"text of {len(host)} characters is too long for a host name", where="host name", fix=_FIX_HOST
        )
    return _to_ascii(host)


@functools.lru_cache(maxsize=4096)
def _to_ascii(host: str) -> str:
    where = f"host name {_show(host)}"
    h = host.strip()
    if is_ip(h):
        raise InputError(
            "an IP address is not a host name",
            where=where,
            fix="give the domain name the site is served under (a site reached by IP alone still needs an ICP filing)",
        )
    h = h.removesuffix(".").removesuffix("。").removesuffix("．")
    if h.startswith(("*.", "*。", "*．")):
        h = h[2:]
    if not h:
        raise InputError("the host name is empty", where=where, fix=_FIX_HOST)
    if _NOT_HOST.search(h):
        raise InputError(
            "not a bare host name (it has a scheme, port, path, user or space)", where=where, fix=_FIX_HOST
        )
    ascii_host = _plain_ascii(h)
    if ascii_host is None:
        try:
            ascii_host = idna.encode(h, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise InputError(f"not a valid host name ({exc})", where=where, fix=_FIX_HOST) from exc
    ascii_host = ascii_host.removesuffix(".")
    if is_ip(ascii_host):
        raise InputError("an IP address is not a host name", where=where, fix=_FIX_HOST)
    labels = ascii_host.split(".")
    bad = next((label for label in labels if not _LABEL.fullmatch(label)), None)
    if bad is not None:
        raise InputError(f"label {_show(bad)} is not a valid host name label", where=where, fix=_FIX_HOST)
    if labels[-1].isdigit():
        raise InputError("the last label is all digits, so this is not a domain name", where=where, fix=_FIX_HOST)
    if len(ascii_host) > 253:
        raise InputError("longer than 253 characters in ASCII form", where=where, fix=_FIX_HOST)
    return ascii_host


def _plain_ascii(host: str) -> str | None:
    """``host`` lower-cased when IDNA would leave it as it is (every label LDH, 1–63 characters, no ``--`` in
    positions 3–4 — so no ``xn--`` label — and at most 253 characters), else None: IDNA decides (and words the
    error). The same result as ``idna.encode(host, uts46=True)`` without its per-code-point tables."""
    if not host.isascii() or len(host) > 253:
        return None
    lowered = host.lower()
    return lowered if _PLAIN_HOST.fullmatch(lowered) else None


def to_unicode(host: str) -> str:
    """Display form of a host name: punycode labels decoded (``xn--fiqs8s`` → ``中国``), lower case."""
    ascii_host = to_ascii(host)
    if "xn--" not in ascii_host:  # no punycode label: IDNA decoding would return it unchanged
        return ascii_host
    try:
        return idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise InputError(f"cannot decode ({exc})", where=f"host name {_show(host)}", fix=_FIX_HOST) from exc


@functools.cache
def _psl() -> PublicSuffixList:
    """The bundled Public Suffix List, ICANN section only, unknown TLDs accepted as suffixes (created once).

    The same rules as ``PublicSuffixList(accept_unknown=True, only_icann=True)``, built from a precompiled rule list
    (:func:`_psl_rules`) so that the policy pack's first request does not parse the 15,000-line file and IDNA-encode
    its non-ASCII rules again (about a quarter of what the pack adds to a preview)."""
    return PublicSuffixList(_psl_rules(), accept_unknown=True, accept_encoded_idn=False, only_icann=False)


_PSL_BEGIN, _PSL_END = "// ===BEGIN ICANN DOMAINS===", "// ===END ICANN DOMAINS==="


def compile_psl(text: str) -> list[str]:
    """The ICANN rules of a Public Suffix List file as ``publicsuffixlist`` reads them (lower case, first field),
    each non-ASCII rule followed by its punycode form (exception rules keep their ``!``)."""
    rules: list[str] = []
    inside = False
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped == _PSL_BEGIN:
            inside = True
            continue
        if stripped == _PSL_END:
            inside = False
            continue
        if not inside:
            continue
        rule = line.lower().split(" ")[0].rstrip()
        if not rule or rule.startswith("//"):
            continue
        rules.append(rule)
        if not rule.isascii():
            bang = "!" if rule.startswith("!") else ""
            rules.append(bang + rule.lstrip("!").encode("idna").decode("ascii"))
    return rules


def _psl_rules() -> list[str]:
    """:func:`compile_psl` of the installed ``publicsuffixlist``'s file, kept in the cache folder under the file's
    SHA-256 (a plain list of rules, read back only when the name matches the file's content); compiled in memory
    when the cache cannot be used."""
    import hashlib
    import os
    from pathlib import Path

    from publicsuffixlist import PSLFILE

    data = Path(PSLFILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:24]
    env = os.environ.get("CHINA_SITE_CACHE_DIR")
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(env).expanduser() if env else (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "china-site"
    cache = base / f"psl-icann-{digest}.txt"
    try:
        cached = cache.read_text(encoding="utf-8").splitlines()
        if cached and cached[-1] == digest:
            return cached[:-1]
    except (OSError, UnicodeDecodeError):
        pass
    rules = compile_psl(data.decode("utf-8"))
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        tmp.write_text("\n".join([*rules, digest]) + "\n", encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # read-only home: compiled again next time
    return rules


def registrable_domain(host: str) -> str:
    """The registrable domain (public suffix + one label) of ``host``, in ASCII: ``a.b.shop.com.cn`` → ``shop.com.cn``.

    A bare public suffix (``com.cn``) has none: InputError.
    """
    ascii_host = to_ascii(host)
    suffix = _suffix(ascii_host)
    registrable = _psl().privatesuffix(ascii_host)
    if suffix != _psl_suffix(ascii_host):  # a longer suffix from the data file (政务.cn)
        registrable = None if ascii_host == suffix else ".".join(ascii_host.split(".")[-suffix.count(".") - 2 :])
    if registrable is None:
        raise InputError(
            f"{_show(ascii_host)} is a public suffix, not a registrable domain",
            where=f"host name {_show(host)}",
            fix=f"use a domain registered under it, e.g. example.{ascii_host}",
        )
    return registrable


def tld_of(domain: str) -> str:
    """The effective public suffix of ``domain`` in ASCII, e.g. ``com.cn`` for ``www.example.com.cn``.

    A suffix of the TLD data file that the PSL lacks and that is longer than the PSL's counts (``政务.cn``).
    """
    return _suffix(to_ascii(domain))


def _psl_suffix(ascii_host: str) -> str:
    return _psl().publicsuffix(ascii_host) or ascii_host.rsplit(".", 1)[-1]


def _suffix(ascii_host: str) -> str:
    psl = _psl_suffix(ascii_host)
    for listed in _tlds().multi_label:  # longest first
        if listed.count(".") > psl.count(".") and (ascii_host == listed or ascii_host.endswith("." + listed)):
            return listed
    return psl


def top_label(domain: str) -> str:
    """The last label of ``domain`` in ASCII, e.g. ``cn`` for ``www.example.com.cn``."""
    return to_ascii(domain).rsplit(".", 1)[-1]


def normalize_suffix(suffix: str) -> str:
    """ASCII form of a suffix as written in configuration or data (``.中国`` → ``xn--fiqs8s``).

    Raises InputError when it is not a valid suffix.
    """
    if not isinstance(suffix, str):
        raise InputError(
            f"expected a domain suffix as text, got {type(suffix).__name__}", where="TLD list", fix="write e.g. 'org'"
        )
    text = suffix.strip().lstrip(".．。")
    try:
        if "*" in text:
            raise InputError("wildcard in a suffix")
        return to_ascii(text)
    except InputError as exc:
        raise InputError(
            f"{_show(suffix)} is not a domain suffix",
            where="TLD list",
            fix="write a suffix without dot or wildcard, e.g. 'org', 'com.cn' or '中国'",
        ) from exc


class _Restricted(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    holders: tuple[HolderKind, ...] = Field(min_length=1)
    note: str = Field(min_length=1)


class _TldFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    approved: tuple[str, ...] = Field(min_length=1)
    restricted: dict[str, _Restricted] = Field(default_factory=dict)
    disputed: dict[str, str] = Field(default_factory=dict)


class _Tlds:
    def __init__(self, data: _TldFile) -> None:
        try:
            self.approved = frozenset(normalize_suffix(s) for s in data.approved)
            self.restricted = {normalize_suffix(k): v for k, v in data.restricted.items()}
            self.disputed = {normalize_suffix(k): v for k, v in data.disputed.items()}
        except InputError as exc:
            raise datafiles.DataFileError(
                exc.what, where="china_site/data/tlds.yaml", fix="correct the entry or reinstall china-site"
            ) from exc
        lists = (self.approved, set(self.restricted), set(self.disputed))
        every = [normalize_suffix(s) for s in data.approved] + [*self.restricted, *self.disputed]
        twice = {s for s in every if every.count(s) > 1}
        if twice:
            raise datafiles.DataFileError(
                f"suffixes listed twice: {', '.join(sorted(twice))}",
                where="china_site/data/tlds.yaml",
                fix="keep each suffix once, in one list",
            )
        # Suffixes of more than one label, longest first: some (政务.cn) are not public suffixes in the PSL.
        self.multi_label = tuple(
            sorted((s for lst in lists for s in lst if "." in s), key=lambda s: (-s.count("."), s))
        )


@functools.cache
def _tlds() -> _Tlds:
    return _Tlds(datafiles.validated("tlds", _TldFile))


def _candidates(domain: str) -> tuple[str, ...]:
    """The suffix of ``domain`` and its shorter tails, most specific first: ``com.cn``, ``cn``."""
    labels = tld_of(domain).split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


def tld_status(domain: str, *, extra: Iterable[str] = (), denied: Iterable[str] = ()) -> TldStatus:
    """How the data file and the user's lists classify ``domain``'s suffix (see the module docstring)."""
    candidates = _candidates(domain)
    if not set(candidates).isdisjoint(normalize_suffix(s) for s in denied):
        return "denied"
    extra_set = {normalize_suffix(s) for s in extra}
    data = _tlds()
    for suffix in candidates:
        if suffix in extra_set or suffix in data.approved:
            return "approved"
        if suffix in data.restricted:
            return "restricted"
        if suffix in data.disputed:
            return "disputed"
    return "unlisted"


def tld_approved(domain: str, *, extra: Iterable[str] = (), denied: Iterable[str] = ()) -> bool:
    """True when ``domain`` is under a suffix on MIIT's approved list (restricted ones included)."""
    return tld_status(domain, extra=extra, denied=denied) in ("approved", "restricted")


def tld_note(domain: str) -> str | None:
    """The data file's note for a restricted or disputed suffix of ``domain`` (for messages), else None."""
    data = _tlds()
    for suffix in _candidates(domain):
        if suffix in data.approved:
            return None
        restricted = data.restricted.get(suffix)
        note = restricted.note if restricted else data.disputed.get(suffix)
        if note:
            return f".{idna.decode(suffix)}: {note}"
    return None


def tld_holders(domain: str) -> tuple[HolderKind, ...] | None:
    """The entity types that may hold ``domain`` when its suffix is restricted (``gov.cn`` → government), else
    None (any holder)."""
    data = _tlds()
    for suffix in _candidates(domain):
        if suffix in data.approved or suffix in data.disputed:
            return None
        restricted = data.restricted.get(suffix)
        if restricted is not None:
            return restricted.holders
    return None
