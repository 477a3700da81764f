"""Object sizes and multipart uploads for the sync (split from :mod:`china_site.sync`).

What lives here: the OSS size limits, from which size a file goes up as a multipart upload and in parts of what
size (``MULTIPART_THRESHOLD``, ``MIN_PART_SIZE``, ``MAX_PARTS``, :func:`part_size_for`), the ETag S3 and OSS report
for a multipart upload (``_multipart_etag``), hashing a file in one read with its part MD5s (``_hash_stream``) and
filling a reused part buffer (``_read_into``). Other modules read the tunables as attributes of this module
(``sync_multipart.MULTIPART_THRESHOLD``), so a test that sets them here changes them everywhere.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

MAX_SINGLE_PUT = 5 * 1024**3  # OSS PutObject limit (5 GB)
MAX_OBJECT_SIZE = 10_000 * 5 * 1024**3  # OSS: at most 10,000 parts of at most 5 GB
# Files larger than this go up as a multipart upload, read and sent one part at a time (never whole in memory).
MULTIPART_THRESHOLD = 16 * 1024**2
MIN_PART_SIZE = 8 * 1024**2
MAX_PARTS = 10_000

_CHUNK = 1024 * 1024


def part_size_for(size: int) -> int:
    """Part size of a multipart upload: 8 MiB, or larger (whole MiB) so that the file fits in 10,000 parts."""
    need = -(-size // MAX_PARTS)
    return max(MIN_PART_SIZE, -(-need // _CHUNK) * _CHUNK)


def _multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 and OSS report for a multipart upload: MD5 of the concatenated part MD5s, then ``-<parts>``."""
    return f"{hashlib.md5(b''.join(part_md5s), usedforsecurity=False).hexdigest()}-{len(part_md5s)}"


def _hash_stream(fh: BinaryIO, total: int) -> tuple[str, str, int, list[bytes]]:
    """SHA-256, MD5, size and — for a file of ``total`` bytes above the multipart threshold — the MD5 of each part,
    in one read."""
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    part_size = part_size_for(total) if total > MULTIPART_THRESHOLD else 0
    parts: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    size = 0
    while chunk := fh.read(_CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
        if part_size:
            part.update(chunk)
            in_part += len(chunk)
            if in_part >= part_size:
                parts.append(part.digest())
                part, in_part = hashlib.md5(usedforsecurity=False), 0
    if part_size and in_part:
        parts.append(part.digest())
    if size != total:  # changed while being read: the part layout no longer fits; hashed again at upload anyway
        parts = []
    return sha.hexdigest(), md5.hexdigest(), size, parts if size > MULTIPART_THRESHOLD else []


def _read_into(fh: BinaryIO, buf: bytearray) -> int:
    """Fill ``buf`` from ``fh`` (fewer bytes only at the end of the file); the number of bytes read."""
    view = memoryview(buf)
    filled = 0
    try:
        while filled < len(buf):
            got = fh.readinto(view[filled:])  # type: ignore[attr-defined]
            if not got:
                break
            filled += got
    finally:
        view.release()
    return filled
