"""The vocabulary of ``public`` deciders and the wire-path evaluation they share: ``_Ctx`` (the props a decider
reads, and the deciding values that were unknown), dotted paths walked into maps, list items and JSON text, and one
function per decider of ``china_site/data/exposure_types.yaml`` (``always``, ``bandwidth``, ``flag``, ``values``,
``present``, ``output``, ``bucket_policy``, ``any``/``all``, ``unless``, ``each``); ``_domains`` reads the host
names of a type's ``domain`` paths. The stricter reading throughout: an unknown or unreadable value is public."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from china_site.exposure_values import UNKNOWN, _flag, _get, _number, _reveal, _text


@dataclass
class _Ctx:
    """What a decider reads: props, plus the names of deciding values that were unknown."""

    props: Mapping[str, Any]
    unknown: list[str] = field(default_factory=list)

    def value(self, key: str) -> object:
        return _get(self.props, key)

    def text(self, key: str) -> str | None:
        """The property as text; records it as unknown (and returns None) when unknown."""
        value = self.value(key)
        if value is UNKNOWN:
            self.unknown.append(key)
            return None
        return _text(value)

    def leaves(self, path: str, *, flatten_end: bool = True) -> list[object]:
        """The values at a dotted wire path: maps are walked by key, lists item by item (a list at the end too,
        unless ``flatten_end`` is False: it is then returned as one value); absent and null values are left out, so
        ``[]`` means absent. A value of the wrong shape on the way (text where a map is expected) is returned as
        itself: the decider then reads it the stricter way."""
        out: list[object] = []
        _walk(self.props, path.split("."), out, 0, flatten_end)
        return out


_MAX_WALK = 16


_JSON_SUFFIX: Final = "@json"
_MAX_JSON_TEXT: Final = 256 * 1024


class _Unreadable:
    """A value that cannot be read (JSON text that does not parse, or is too long): every decider reads it the
    stricter way (public), as it does any wrong-shaped value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE: Final = _Unreadable()


def _json_value(value: object) -> object:
    """A ``P@json`` segment: text holding a JSON document (an ACK addon's ``config``, an FC trigger's
    ``triggerConfig``) → the parsed value; a map or list is used as is; unparseable text → :data:`UNREADABLE`."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    if len(value) > _MAX_JSON_TEXT:
        return UNREADABLE
    from china_site.safeio import load_json

    try:
        return load_json(value)  # a number too long or nesting too deep (ValueErrors too) is unreadable
    except ValueError:
        return UNREADABLE


def _walk(value: object, segments: Sequence[str], out: list[object], depth: int, flatten_end: bool = True) -> None:
    if depth > _MAX_WALK:
        out.append(UNKNOWN)
        return
    if isinstance(value, list | tuple) and (segments or flatten_end):
        for item in value:
            _walk(_reveal(item), segments, out, depth + 1, flatten_end)
        return
    if not segments:
        if value is not None:
            out.append(value)
        return
    if value is UNKNOWN:
        out.append(UNKNOWN)
        return
    if isinstance(value, Mapping):
        key = segments[0]
        child = _get(value, key.removesuffix(_JSON_SUFFIX))
        if key.endswith(_JSON_SUFFIX) and child is not UNKNOWN:
            child = _json_value(child)
        _walk(child, segments[1:], out, depth + 1, flatten_end)
        return
    if value is not None:
        out.append(value)  # the wrong shape: a scalar where a map is expected


Decider = Callable[[_Ctx], bool]


def _unknown_in(ctx: _Ctx, path: str, leaves: Sequence[object]) -> bool:
    if any(leaf is UNKNOWN for leaf in leaves):
        ctx.unknown.append(path)
        return True
    return False


def _absent(leaves: Sequence[object]) -> bool:
    """No value, or only empty text (an empty string is how the engine shows an unset optional string)."""
    return all(isinstance(leaf, str) and not leaf.strip() for leaf in leaves)


def _always(_ctx: _Ctx) -> bool:
    return True


def _never(_ctx: _Ctx) -> bool:
    return False


def _on_leaves(path: str, judge: Callable[[Sequence[object]], bool], absent: bool | None = None) -> Decider:
    """A decider reading ``path``: an unknown leaf decides public (noted in ``ctx.unknown``); with ``absent`` given,
    no value decides ``absent``; otherwise ``judge`` decides from the leaves."""

    def decide(ctx: _Ctx) -> bool:
        leaves = ctx.leaves(path)
        if _unknown_in(ctx, path, leaves):
            return True
        if absent is not None and _absent(leaves):
            return absent
        return judge(leaves)

    return decide


def _bandwidth(path: str) -> Decider:
    def judge(leaves: Sequence[object]) -> bool:
        for leaf in leaves:
            number = _number(leaf)
            if number is None or number > 0:  # unparseable or wrong-typed: the stricter reading
                return True
        return False

    return _on_leaves(path, judge)


def _bool(path: str, absent: bool) -> Decider:
    def judge(leaves: Sequence[object]) -> bool:
        return any(_flag(leaf) is not False for leaf in leaves)  # unparseable: the stricter reading

    return _on_leaves(path, judge, absent)


def _values(path: str, private: frozenset[str] | None, public: frozenset[str] | None, absent: bool) -> Decider:
    def judge(leaves: Sequence[object]) -> bool:
        for leaf in leaves:
            text = _text(leaf)
            if text is None:
                if isinstance(leaf, str):
                    continue  # an empty item
                return True  # a number, list or map where text is expected: the stricter reading
            lowered = text.lower()
            if public is not None:
                if lowered in public:
                    return True
            elif private is not None and lowered not in private:
                return True  # any other text, recognised or not: the stricter reading
        return False

    return _on_leaves(path, judge, absent)


def _filled(leaf: object) -> bool:
    """A value that counts as given: non-empty text, a non-empty map, or any other value (a number or a boolean
    where text is expected is read the stricter way)."""
    if isinstance(leaf, str):
        return bool(leaf.strip())
    if isinstance(leaf, Mapping):
        return bool(leaf)
    return True


def _present(path: str) -> Decider:
    return _on_leaves(path, lambda leaves: any(_filled(leaf) for leaf in leaves))


def _output(path: str) -> Decider:
    """An output (known only after deploy): a non-empty text decides; unknown at preview does not."""

    def decide(ctx: _Ctx) -> bool:
        return any(isinstance(leaf, str) and _text(leaf) is not None for leaf in ctx.leaves(path))

    return decide


def _anonymous_principal(principal: object) -> bool:
    principal = _reveal(principal)
    if isinstance(principal, str):
        return principal.strip() == "*"
    if isinstance(principal, list | tuple):
        return any(_anonymous_principal(p) for p in principal)
    if isinstance(principal, Mapping):
        return any(_anonymous_principal(p) for p in principal.values())
    return principal is not None  # an unreadable principal: the stricter reading


_RESTRICTING_OPERATORS: Final = frozenset({"stringequals", "stringlike", "stringequalsignorecase"})


def _restricted(statement: Mapping[str, Any], private_conditions: frozenset[str]) -> bool:
    """The statement's Condition limits it to a VPC (``StringEquals``/``StringLike`` on one of
    ``private_conditions``, e.g. ``acs:SourceVpc``): anonymous, but not from the internet."""
    condition = _reveal(statement.get("Condition"))
    if not private_conditions or not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        tests = _reveal(tests)
        if str(operator).lower() not in _RESTRICTING_OPERATORS or not isinstance(tests, Mapping):
            continue
        for key, value in tests.items():
            value = _reveal(value)
            values = value if isinstance(value, list | tuple) else [value]
            if str(key).lower() in private_conditions and values and all(_text(v) for v in values):
                return True
    return False


def _policy_public(document: object, private_conditions: frozenset[str] = frozenset()) -> bool:
    """An OSS policy document grants anonymous access: a statement with Effect Allow and Principal ``*``, unless
    its Condition restricts it to a VPC (one of ``private_conditions``)."""
    if isinstance(document, str):
        if not document.strip():
            return False
        from china_site.safeio import load_json

        try:
            document = load_json(document)
        except ValueError:  # malformed, a number too long, nested too deep (NestingError is a ValueError)
            return True  # unparseable: the stricter reading
    if not isinstance(document, Mapping):
        return True
    statements = _reveal(document.get("Statement"))
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list | tuple):
        return statements is not None
    for statement in statements:
        statement = _reveal(statement)
        if not isinstance(statement, Mapping):
            return True
        effect = _text(_reveal(statement.get("Effect")))
        if effect is not None and effect.lower() == "deny":
            continue
        if _anonymous_principal(statement.get("Principal")) and not _restricted(statement, private_conditions):
            return True
    return False


def _bucket_policy(path: str, private_conditions: frozenset[str] = frozenset()) -> Decider:
    return _on_leaves(path, lambda leaves: any(_policy_public(leaf, private_conditions) for leaf in leaves))


def _combined(kind: str, deciders: Sequence[Decider]) -> Decider:
    def combined(ctx: _Ctx) -> bool:
        results = [decide(ctx) for decide in deciders]  # every one runs: each lists its unknowns
        return any(results) if kind == "any" else all(results)

    return combined


def _suppressed_unless(path: str, listed: frozenset[str] | None) -> Decider:
    """``{not: {flag: P}}`` / ``{not: {values: P, public: [..]}}``: a suppressor (``disabled: true``,
    ``disableURLInternet: true``). Public unless P is *known* to suppress: true, or one of the listed values, in
    every value found. An unknown value keeps the exposure and is listed; an absent or unparseable one keeps it too
    (the stricter reading: only a readable suppressor suppresses)."""

    def suppresses(leaf: object) -> bool:
        if listed is None:
            return _flag(leaf) is True
        text = _text(leaf)
        return text is not None and text.lower() in listed

    def decide(ctx: _Ctx) -> bool:
        leaves = ctx.leaves(path)
        if _unknown_in(ctx, path, leaves):
            return True
        return not (leaves and all(suppresses(leaf) for leaf in leaves))

    return decide


def _each(path: str, inner: Decider) -> Decider:
    """``{each: P, then: D}``: public when D, run on one item of the list (or map) at P, is public — e.g. the
    addons of an ACK cluster, each judged by its own name, ``disabled`` flag and JSON ``config``. An unknown item
    is public (the stricter reading); an item that is not a map is the wrong shape (public)."""

    def each(ctx: _Ctx) -> bool:
        public = False
        for item in ctx.leaves(path):
            if item is UNKNOWN:
                ctx.unknown.append(path)
                public = True
                continue
            if not isinstance(item, Mapping):
                public = True
                continue
            sub = _Ctx(item)
            if inner(sub):
                public = True
            ctx.unknown.extend(f"{path}.{name}" for name in sub.unknown)
        return public

    return each


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _domains(ctx: _Ctx, paths: Sequence[str], required: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(host names, unreadable property paths) from the first domain path that has a value."""
    for path in paths:
        # A list is a host name list only where the data says so (``values[]``); elsewhere it is the wrong type.
        listed = path.endswith("[]")
        path = path.removesuffix("[]")
        leaves = ctx.leaves(path, flatten_end=listed)
        if not leaves or _absent(leaves):
            continue
        if _unknown_in(ctx, path, leaves):
            return (), ()  # known at update: checked again then
        hosts = [text for text in (_text(leaf) for leaf in leaves) if text]
        wrong = [leaf for leaf in leaves if not isinstance(leaf, str)]
        if required and (wrong or any(_is_ip(h) for h in hosts)):
            return tuple(h for h in hosts if not _is_ip(h)), (path,)
        return tuple(hosts), ()
    return (), (paths[0].removesuffix("[]"),) if required and paths else ()
