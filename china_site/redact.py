"""Credentials out of URLs, whatever their shape: the one redaction every message, report and log line goes through.

- :func:`safe_url` shows an endpoint as ``scheme://host[:port]`` only: never its user info (``user:pass@``, where
  the password may hold ``/``, ``@`` or ``:``), path, ``;`` parameters, query or fragment.
- :func:`safe_code` passes an error code from a remote API only when it has a code's shape, else escapes and cuts it.
- :func:`redact_urls` rewrites every URL inside a text: its user info becomes ``***@``, every ``;`` parameter's
  value and the value of every query or fragment parameter whose name says it is a credential (``token``,
  ``key``, ``secret``, ``signature``, ``password``, ``auth``, ``session``, ``credential``, …) becomes ``***``.
  What is not a credential (``?code=31011502012345`` of a PSB record link) is kept.

:meth:`china_site.errors.ChinaSiteError.line` applies :func:`redact_urls` to every error line; the audit applies it
to the engine's own policy messages it copies into its report.
"""

from __future__ import annotations

import re

__all__ = ["redact_urls", "safe_code", "safe_url"]

MASK = "***"

# scheme://… up to white space, a quote or an angle bracket (where a URL in prose ends).
_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]{0,30}://)(?P<rest>[^\s\"'<>`]+)")
# user:pass@host without a scheme (an endpoint variable given as a bare host with user info).
_BARE_USERINFO = re.compile(r"^[^\s/?#]*@")
_SECRET_NAME = re.compile(
    r"token|key|secret|sig|pass|pwd|auth|credential|session|security|cookie|bearer|jwt|otp|x-amz-|x-oss-",
    re.IGNORECASE,
)
_PARAM = re.compile(r"(?P<sep>[?&;#])(?P<name>[^=&;#?\s]*)=(?P<value>[^&;#\s]*)")


def _without_userinfo(rest: str) -> tuple[str, bool]:
    """``rest`` (what follows ``scheme://``) without its user info: everything up to the last ``@`` before the
    query or fragment (a password may hold ``/`` and ``@``; when in doubt, more is hidden, never less)."""
    end = len(rest)
    for mark in ("?", "#"):
        at = rest.find(mark)
        if at != -1:
            end = min(end, at)
    at = rest.rfind("@", 0, end)
    if at == -1:
        return rest, False
    return rest[at + 1 :], True


def _params(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m["sep"] == ";" or _SECRET_NAME.search(m["name"]):
            return f"{m['sep']}{m['name']}={MASK}" if m["value"] else m.group()
        return m.group()

    return _PARAM.sub(one, text)


def _one_url(m: re.Match[str]) -> str:
    rest, had_userinfo = _without_userinfo(m["rest"])
    return m["scheme"] + (f"{MASK}@" if had_userinfo else "") + _params(rest)


def redact_urls(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***`` (see the module doc)."""
    if "://" not in text:
        return text
    return _URL.sub(_one_url, text)


def safe_url(url: str | None) -> str:
    """``scheme://host[:port]`` of an endpoint (``host[:port]`` when given without a scheme): nothing else of it."""
    if not url:
        return "the default endpoint"
    text = url.strip()
    scheme = ""
    if "://" in text:
        scheme, text = text.split("://", 1)
        scheme = scheme.lower() + "://"
    text, _ = _without_userinfo(text)
    if not scheme:
        text = _BARE_USERINFO.sub("", text)
    host = re.split(r"[/?#;\s]", text, maxsplit=1)[0]
    from china_site.safeio import clip, printable

    return printable(clip(scheme + host, 200)) if host else scheme + "?"


_CODE_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,79}")


def safe_code(code: object) -> str | None:
    """An Alibaba Cloud error code as it may be printed: ``Forbidden.RAM``, ``DomainOwnerVerifyFail``… kept; text
    of any other shape (escape sequences, links, a 2 MB line) escaped and cut to 60 characters; None when empty."""
    if not isinstance(code, str) or not code or code == "None":
        return None
    if _CODE_SHAPE.fullmatch(code):
        return code
    from china_site.safeio import clip, printable

    return printable(clip(code, 60))
