"""The common shape every Pulumi artifact is read into: :class:`Artifact` holding :class:`Record` s.

Here live Pulumi's value signatures and unknown sentinels (and the secret helpers built on them), URNs
(:func:`parse_urn`, :func:`root_stack_urn`), the preview step ops, and the record model: :class:`Record` with its
:class:`ProviderRef` and :class:`RecordOptions`, :class:`MissingProvider`, :class:`EnginePolicyEvent`,
:class:`RunFailure` and :class:`Artifact`. The readers that fill it are :mod:`china_site.engine.artifacts` (exports,
previews), :mod:`china_site.engine.events` (JSON engine events) and :mod:`china_site.engine.resource_state` (one
resource state → one record).

This module imports nothing from Pulumi: it is safe to import when the CLI starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Pulumi's special signature key and the signatures that can follow it (sdk/go/common/resource/properties.go).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

# The engine's unknown sentinels (sdk/go/common/resource/plugin/rpc.go; pulumi_policy/proxy.py).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown string: what `pulumi preview --json` writes
UNKNOWN_VALUES = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # bool
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        UNKNOWN,  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
MASKED_SECRET = "[secret]"  # how `pulumi preview --json` prints a secret it does not show

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"

# `pulumi preview --json` step ops (sdk/go/common/display/... StepOp). Deletes are skipped: a deleted resource is
# not part of the stack the policies judge (the engine does not analyze it either).
INCLUDED_OPS = frozenset(
    {
        "same",
        "create",
        "update",
        "replace",
        "create-replacement",
        "read",
        "read-replacement",
        "import",
        "import-replacement",
        "refresh",
    }
)
SKIPPED_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"})
READ_OPS = frozenset({"read", "read-replacement"})

ArtifactKind = Literal["export", "preview", "events"]


def secret(value: Any = UNKNOWN) -> dict[str, Any]:
    """The secret wire form the policy SDK deserialises as a secret; ``value`` defaults to *unknown*."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def secret_strings(records: Iterable[Record], *, min_length: int) -> set[str]:
    """Plaintext secret strings (of at least ``min_length`` characters) in the records' inputs, outputs and
    provider inputs: only ``--show-secrets`` exports and secrets given to a preflight have any."""
    found: set[str] = set()

    def walk(value: Any, inside: bool) -> None:
        if isinstance(value, Mapping):
            secret_here = inside or is_secret(value)
            for v in value.values():
                walk(v, secret_here)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, inside)
        elif inside and isinstance(value, str) and len(value) >= min_length and value not in UNKNOWN_VALUES:
            found.add(value)

    for record in records:
        walk(record.inputs, False)
        walk(record.outputs or {}, False)
        if record.provider is not None:
            walk(record.provider.inputs, False)
    return found


@dataclass(frozen=True)
class ParsedURN:
    """The parts of ``urn:pulumi:<stack>::<project>::<parent-type$…$type>::<name>``."""

    stack: str
    project: str
    qualified_type: str
    type: str
    name: str

    @property
    def parent_types(self) -> tuple[str, ...]:
        return tuple(self.qualified_type.split("$")[:-1])


def parse_urn(urn: str) -> ParsedURN:
    """Split a URN the way Pulumi builds it (``resource.NewURN``). The name is everything after the fourth
    ``::`` and may itself contain ``::``; stack, project and type never do. Raises ValueError if malformed."""
    prefix = "urn:pulumi:"
    if not isinstance(urn, str) or not urn.startswith(prefix):
        raise ValueError("does not start with 'urn:pulumi:'")
    parts = urn[len(prefix) :].split("::", 3)
    if len(parts) != 4 or not all(parts[:3]):
        raise ValueError("expected urn:pulumi:<stack>::<project>::<type>::<name>")
    stack, project, qualified_type, name = parts
    return ParsedURN(stack, project, qualified_type, qualified_type.rsplit("$", 1)[-1], name)


def root_stack_urn(stack: str, project: str) -> str:
    """``resource.DefaultRootStackURN``: where the engine files stack-level policy violations."""
    return f"urn:pulumi:{stack}::{project}::{STACK_TYPE}::{project}-{stack}"


@dataclass(frozen=True)
class ProviderRef:
    """The provider a resource is managed by, as the engine sends it to policies (its *inputs*)."""

    urn: str
    type: str
    name: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class RecordOptions:
    """The resource options the engine passes to policies (``AnalyzerResourceOptions``), as far as an artifact
    records them. ``delete_before_replace`` is never in an artifact, so it is always "not defined"."""

    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    additional_secret_outputs: tuple[str, ...] = ()
    custom_timeouts: tuple[float, float, float] = (0.0, 0.0, 0.0)  # create, update, delete (seconds)


@dataclass(frozen=True)
class Record:
    """One resource of an artifact.

    ``inputs`` feed resource policies (Analyze, Remediate); ``outputs`` feed stack policies (AnalyzeStack) and
    are ``None`` when the artifact has none (preview creates). ``op`` is the preview step op, ``None`` for exports.
    ``external`` marks read resources (``.get``/``read`` steps), which the engine does not analyze one by one.
    """

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None
    provider: ProviderRef | None
    parent: str | None
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    op: str | None
    external: bool = False
    options: RecordOptions = field(default_factory=RecordOptions)
    source_position: str | None = None  # Pulumi's ``sourcePosition`` (``project:///main.py#12,5``), when recorded

    @property
    def is_provider(self) -> bool:
        return self.type.startswith(PROVIDER_TYPE_PREFIX)

    @property
    def is_stack(self) -> bool:
        return self.type == STACK_TYPE


@dataclass(frozen=True)
class MissingProvider:
    """A resource whose explicit provider is neither in the artifact nor in the ``--state`` export: its region (and
    so where it is served from) cannot be known. ``pulumi preview --json`` without ``--show-sames`` leaves out
    unchanged resources, explicit providers included."""

    record: Record
    provider_urn: str


@dataclass(frozen=True)
class EnginePolicyEvent:
    """A ``policyEvent`` of the engine (apitype.PolicyEvent): what a policy pack reported during the run."""

    policy: str
    pack: str
    pack_version: str
    enforcement: str  # advisory | mandatory | remediate | disabled (older SDKs wrote "warning" = advisory)
    urn: str  # "" for a stack-level violation without a resource
    message: str


@dataclass(frozen=True)
class RunFailure:
    """What says the run that wrote the artifact failed: an error diagnostic (the program's refusal, a provider
    error, "preview failed: N mandatory policy violations"), a failed resource operation, a summary whose result is
    ``failed``, or a cancellation. ``urn`` is the resource it names ("" for none); ``message`` has no colours."""

    message: str
    urn: str = ""
    where: str = ""  # the entry of the artifact it comes from (``diagnostics[2]``, ``event 37``)


@dataclass(frozen=True)
class Artifact:
    kind: ArtifactKind
    records: list[Record]
    config: dict[str, str]
    stack: str | None
    project: str | None
    source: str = ""
    missing_providers: tuple[MissingProvider, ...] = ()
    policy_events: tuple[EnginePolicyEvent, ...] = ()
    policy_packs: dict[str, str] = field(default_factory=dict)  # pack name → version the engine ran (summaryEvent)
    # Unchanged resources a preview counts (changeSummary.same) but does not list (no --show-sames): not judged.
    omitted_unchanged: int = 0
    events_cut_off: bool = False  # JSON engine events without the summaryEvent that ends every run
    run_failures: tuple[RunFailure, ...] = ()  # the run that wrote the artifact failed (preview/events only)
    # JSON engine events: the resources the summaryEvent counts (its resourceChanges, deletes left out; the largest
    # of an `up`'s two summaries) and how many distinct resources the events carry.
    counted_resources: int = 0
    carried_resources: int = 0

    @property
    def judged_records(self) -> list[Record]:
        """The records the pack can judge: all but those whose provider is missing."""
        missing = {m.record.urn for m in self.missing_providers}
        return [r for r in self.records if r.urn not in missing]
