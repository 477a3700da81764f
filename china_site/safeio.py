"""Reading outside input without letting it hang, exhaust or crash us: size caps that hold for any kind of file,
bounded YAML (nesting, aliases), bounded nesting of decoded data, and text made safe to print.

- :func:`read_capped` reads a path (a regular file, ``/dev/zero``, a pipe, ``/proc``…) or ``-`` (standard input)
  up to a cap and refuses anything longer, without reading more than the cap plus one byte.
- :class:`BoundedLoader` is PyYAML's SafeLoader with a nesting limit, an alias-expansion limit (a 500-byte "billion
  laughs" document is refused, not expanded) and no recursive aliases; :class:`DatesAsWrittenLoader` also keeps
  impossible dates (``2026-02-30``, month 13) as text so a validator names the entry and field instead of the
  loader crashing.
- :func:`check_depth` bounds the nesting of already-decoded data (JSON) without recursion.
- :func:`load_json` decodes outside JSON with both bounds: a number longer than Python converts (4,300 digits,
  refused before any conversion) is a :class:`NumberTooLongError` instead of a bare ``ValueError``, and nesting too
  deep for the decoder (a ``RecursionError``) or beyond ``max_depth`` is a :class:`NestingError`.
- :func:`clip` and :func:`printable` cut outside text to a few hundred characters and make control characters and
  escape sequences visible instead of letting them reach a terminal.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import yaml

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "BoundedLoader",
    "DatesAsWrittenLoader",
    "NestingError",
    "NumberTooLongError",
    "UniqueKeyLoader",
    "UniqueKeys",
    "check_depth",
    "clip",
    "load_json",
    "printable",
    "read_capped",
]

MAX_CONFIG_BYTES = 16 * 1024**2  # Pulumi.yaml, Pulumi.<stack>.yaml, --policy-config
MAX_DEPTH = 200  # nesting levels of a registry, a config or an artifact (real ones stay below 30)
# A document may use aliases, but their expansion may add at most this many nodes per node written (plus a floor).
_ALIAS_FACTOR = 10
_ALIAS_FLOOR = 10_000
_CHUNK = 1024 * 1024


class NestingError(ValueError):
    """Data nested deeper than allowed, or a YAML alias that expands too far or refers to itself."""


def read_capped(path: str, cap: int, *, refuse: Callable[[str], NoReturn]) -> bytes:
    """The bytes of ``path`` (``-`` = standard input), at most ``cap``; ``refuse(why)`` (which must raise) when the
    input is longer. Works the same for regular files, devices, pipes and ``/proc`` files, whose sizes ``stat``
    does not tell: at most ``cap + 1`` bytes are ever read. ``OSError`` from opening or reading propagates."""
    if path == "-":
        return _read_stream(sys.stdin.buffer, cap, refuse)
    # O_NONBLOCK only for the open: a named pipe nobody writes to reads as empty instead of blocking for ever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        try:
            st = os.fstat(fh.fileno())
        except OSError:
            st = None
        if st is not None and st.st_size > cap and _is_regular(st.st_mode):
            refuse(f"{st.st_size} bytes is more than the limit of {cap} bytes")
        return _read_stream(fh, cap, refuse)


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _read_stream(fh: Any, cap: int, refuse: Callable[[str], NoReturn]) -> bytes:
    parts: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = fh.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    if total > cap:
        refuse(f"more than the limit of {cap} bytes (read up to the limit, then stopped)")
    return b"".join(parts)


# --- YAML --------------------------------------------------------------------------------------------------------


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader with bounded nesting and alias expansion (see the module doc)."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[no-untyped-call]
            self._aliases += 1
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        self._nodes += 1
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, f"nested more than {self.max_depth} levels deep", mark)
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()  # type: ignore[no-untyped-call]
        if node is not None and self._aliases:
            _check_expansion(node, self._nodes * _ALIAS_FACTOR + _ALIAS_FLOOR)
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, limit: int) -> None:
    """Refuse a node graph whose aliases expand beyond ``limit`` nodes or form a cycle (iterative, linear)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > limit:
                raise NestingError(f"YAML aliases (*name) expand to more than {limit} values (an alias bomb?)")
            sizes[nid] = total
            continue
        if nid in sizes:
            continue
        if nid in on_path:
            raise NestingError("a YAML alias (*name) refers to the value that contains it")
        on_path.add(nid)
        stack.append((node, True))
        for child in _children(node):
            if id(child) not in sizes:
                stack.append((child, False))


class UniqueKeys(yaml.SafeLoader):
    """A loader that refuses a key written twice in one mapping (PyYAML silently keeps the last one; the Pulumi CLI,
    Go's yaml.v3, refuses it too): a ``ConstructorError`` naming the key and its line. Mixed in before a bounded
    loader."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable key: the base class reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {clip(repr(key), 80)}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


class UniqueKeyLoader(UniqueKeys, BoundedLoader):
    """:class:`BoundedLoader` that refuses duplicate keys (Pulumi.yaml, Pulumi.<stack>.yaml)."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)  # type: ignore[no-untyped-call]
    except ValueError:  # 2026-02-30, month 13: the text, so that the validator names the entry and field
        return loader.construct_scalar(node)  # type: ignore[arg-type,no-untyped-call]


class DatesAsWrittenLoader(BoundedLoader):
    """:class:`BoundedLoader` that keeps an impossible date (``2026-02-30``, month 13) as its text."""


DatesAsWrittenLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


# --- decoded data ------------------------------------------------------------------------------------------------


def check_depth(data: object, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`NestingError` when lists/dicts in ``data`` nest deeper than ``max_depth`` (no recursion)."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > max_depth:
            raise NestingError(f"nested more than {max_depth} levels deep")
        for child in children:
            if isinstance(child, dict | list | tuple):
                stack.append((child, depth + 1))


class NumberTooLongError(ValueError):
    """A JSON number with more digits than Python converts (``sys.get_int_max_str_digits()``, 4,300)."""


def load_json(text: str | bytes, *, max_depth: int = MAX_DEPTH, object_pairs_hook: Any = None) -> Any:
    """``json.loads`` for outside input: raises ``json.JSONDecodeError`` for malformed text,
    :class:`NumberTooLongError` for a number longer than Python converts (it checks the length before converting,
    so no time is spent on it) and :class:`NestingError` for nesting beyond ``max_depth`` (also when the decoder
    itself runs out of recursion, at about 1,000 levels). As fast as ``json.loads``: no per-value hook."""
    import json

    try:
        data = json.loads(text, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise NestingError(f"nested more than {max_depth} levels deep") from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):  # (e.g. a duplicate key from object_pairs_hook)
            raise
        limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
        raise NumberTooLongError(f"a number of more than {limit} digits") from None
    check_depth(data, max_depth)
    return data


# --- text for people ---------------------------------------------------------------------------------------------

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters (ESC, BEL, CR, …), bidi overrides and lone surrogates shown as ``\\xNN`` /
    ``\\uNNNN``: nothing from outside can move the cursor, clear the screen or hide text."""
    if keep_newlines:
        return "\n".join(_UNPRINTABLE.sub(_escape, line) for line in text.split("\n"))
    return _UNPRINTABLE.sub(_escape, text.replace("\n", "\\n") if "\n" in text else text)


def clip(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters: longer text is cut and says how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}… ({len(text) - limit + 30} more characters)"
