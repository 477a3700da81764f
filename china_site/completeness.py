"""Whether an object body read from OSS or S3 is provably the whole object (the filing registry: a body cut short can
drop a cancelled filing and read as approved). Pure functions over the body and the response headers.

What proves it (checked against moto's S3 server and OSS's documented headers, see README "Remote registries"):

* a **whole-object checksum that matches the body**, one of
  - the ``ETag`` when it is a plain MD5 (32 hex digits: a single PutObject on S3 without SSE-KMS, and on OSS);
  - ``Content-MD5`` (OSS returns it for objects uploaded with one);
  - OSS's ``x-oss-hash-crc64ecma`` (every OSS object, multipart and appendable ones too), when nothing else is there;
  - ``x-amz-checksum-sha256`` / ``-sha1`` / ``-crc32`` of a full object (S3 returns them with ``ChecksumMode``
    ENABLED, and moto for objects uploaded with a checksum, boto3 ≥ 1.36 adding CRC32 by default); a *composite*
    checksum (``…-N``, multipart) covers the parts, not the object, and proves nothing here;
  - a **sidecar** object ``<key>.sha256`` whose first word is the SHA-256 of the registry (``sha256sum filings.yaml
    > filings.yaml.sha256``, uploaded beside it): for multipart uploads and servers that send no usable checksum;
* **and**, when the response states a ``Content-Length``, that length. (A matching whole-object hash already pins
  the length; a body whose length differs from its header is cut short whatever else it says.)

Never proof: an ETag that is not a plain MD5 (multipart ``…-N``, SSE-KMS, opaque) with nothing else, and the absence
of a length. A checksum that is present and does not match is corruption, not "unprovable".
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

SIDECAR_SUFFIX = ".sha256"
SIDECAR_MAX_BYTES = 4096

_MD5_ETAG = re.compile(r'"?([0-9a-fA-F]{32})"?')
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Verdict:
    """``complete``: proven. Otherwise ``corrupt`` (a checksum or length that does not match) or unprovable; ``why``
    says which, in one line."""

    complete: bool
    corrupt: bool
    why: str
    proof: str = ""  # what proved it, for notes ("ETag MD5", "x-amz-checksum-sha256", …)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _checksums(body: bytes, headers: Mapping[str, str]) -> list[tuple[str, bool]]:
    """(name, matches) for every whole-object checksum the headers state that can be checked here."""
    out: list[tuple[str, bool]] = []
    etag = headers.get("etag") or ""
    m = _MD5_ETAG.fullmatch(etag.strip())
    if m is not None:
        out.append(("ETag MD5", hashlib.md5(body, usedforsecurity=False).hexdigest() == m.group(1).lower()))
    content_md5 = (headers.get("content-md5") or "").strip()
    if content_md5:
        out.append(("Content-MD5", content_md5 == _b64(hashlib.md5(body, usedforsecurity=False).digest())))
    oss_crc = (headers.get("x-oss-hash-crc64ecma") or "").strip()
    if oss_crc and not out:  # OSS states it for every object, multipart and appendable ones too
        out.append(("x-oss-hash-crc64ecma", oss_crc == str(crc64_ecma(body))))
    composite = (headers.get("x-amz-checksum-type") or "").strip().upper() == "COMPOSITE"
    for name, compute in (
        ("x-amz-checksum-sha256", lambda b: _b64(hashlib.sha256(b).digest())),
        ("x-amz-checksum-sha1", lambda b: _b64(hashlib.sha1(b, usedforsecurity=False).digest())),
        ("x-amz-checksum-crc32", lambda b: _b64(zlib.crc32(b).to_bytes(4, "big"))),
    ):
        value = (headers.get(name) or "").strip()
        if not value or composite or "-" in value:  # a composite (multipart) checksum: not of the object
            continue
        out.append((name, value == compute(body)))
    return out


@functools.cache
def _crc64_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def crc64_ecma(data: bytes) -> int:
    """CRC-64/ECMA-182 as OSS computes ``x-oss-hash-crc64ecma`` (reflected, initial value and final XOR all ones;
    the CRC-64/XZ parameters): an unsigned decimal in the header. Pure Python, used only when the response has no
    other checksum (a registry is small)."""
    table = _crc64_table()
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def needs_sidecar(headers: Mapping[str, str]) -> bool:
    """Whether the response states no whole-object checksum that can be checked (ask for the sidecar)."""
    return not _checksums(b"", headers)


def sidecar_digest(text: bytes | None) -> str | None:
    """The SHA-256 a sidecar states (its first word, ``sha256sum`` output), or None when it is not one."""
    if text is None:
        return None
    try:
        words = text[:SIDECAR_MAX_BYTES].decode("ascii").split()
    except UnicodeDecodeError:
        return None
    if not words or not _SHA256_HEX.fullmatch(words[0]):
        return None
    return words[0].lower()


def verify(body: bytes, headers: Mapping[str, str], sidecar: bytes | None = None) -> Verdict:
    """Whether ``body`` is provably the whole object. ``headers``: the response headers, lower-case names;
    ``sidecar``: the ``<key>.sha256`` object's body when one was read (None: none)."""
    stated = (headers.get("content-length") or "").strip()
    if stated:
        try:
            length = int(stated)
        except ValueError:
            return Verdict(False, True, f"its Content-Length {stated[:30]!r} is not a number")
        if length != len(body):
            return Verdict(False, True, f"{len(body)} bytes arrived of the {length} its Content-Length states")
    checks = _checksums(body, headers)
    for name, ok in checks:
        if not ok:
            return Verdict(False, True, f"the body does not match its {name} (cut short or altered in transit)")
    if checks:
        return Verdict(True, False, "", checks[0][0])
    if sidecar is not None:
        digest = sidecar_digest(sidecar)
        if digest is None:
            return Verdict(False, True, f"the sidecar {SIDECAR_SUFFIX} object is not a SHA-256 (sha256sum output)")
        if hashlib.sha256(body).hexdigest() != digest:
            return Verdict(False, True, f"the body does not match the SHA-256 of its {SIDECAR_SUFFIX} sidecar")
        return Verdict(True, False, "", f"{SIDECAR_SUFFIX} sidecar")
    etag = (headers.get("etag") or "").strip()
    what = f"its ETag {etag[:40]} is not an MD5" if etag else "it has no ETag"
    no_length = "" if stated else " and no Content-Length"
    return Verdict(False, False, f"nothing proves the body is the whole object: {what}, no checksum{no_length}")
