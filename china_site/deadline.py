"""Overall deadlines for network calls: a per-read timeout alone lets an endpoint that answers one byte at a time
hold a call for ever (each byte resets it). :func:`call_with_deadline` runs a blocking call in a helper thread and
stops waiting for it when its deadline passes, whatever the endpoint does (hangs, trickles, redirects); the thread
is a daemon and ends when its socket does.

The deadlines are configurable: :func:`seconds_from_env` reads ``CHINA_SITE_CDN_TIMEOUT`` (the CDN ownership calls)
and ``CHINA_SITE_REGISTRY_DEADLINE`` (a remote filing registry); the live ICP check uses ``liveTimeoutSeconds``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["DeadlineExceeded", "call_with_deadline", "seconds_from_env"]

T = TypeVar("T")
MAX_SECONDS = 3600.0


class DeadlineExceeded(TimeoutError):
    """The call gave no complete answer within ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within the deadline of {seconds:g} s")
        self.seconds = seconds


def call_with_deadline(call: Callable[[], T], seconds: float, *, name: str = "china-site-network-call") -> T:
    """``call()``'s result or exception, or :class:`DeadlineExceeded` once ``seconds`` have passed."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(seconds)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def seconds_from_env(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds (at most an hour) from ``environ[name]``, else ``default``; anything else is
    one line (InputError)."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:  # (NaN fails every comparison)
        from china_site.errors import InputError
        from china_site.safeio import clip

        raise InputError(
            f"{clip(repr(raw), 40)} is not a number of seconds between 0 and {MAX_SECONDS:g}",
            where=f"environment variable {name}",
            fix=f"set it to e.g. {default:g}, or unset it",
        )
    return value
