"""Findings about the artifact itself, for ``china-site audit`` in a pipeline: what the run that wrote it says, and
what it lacks. None of them is a policy of the pack; each is mandatory, because an audit that passed there would pass
silently where the engine did not (``pulumi preview --json | china-site audit -`` in a shell that does not stop on the
first command's failure).

* ``run-failed`` — the run failed: the program refused (an error diagnostic), a resource operation failed, the
  summary's result is ``failed``, or the run was cancelled. The engine would not deploy it, so audit never exits 0.
* ``resources-not-in-artifact`` — JSON engine events whose summaryEvent counts more resources than they carry; a
  preview whose ``changeSummary`` counts more changed resources than its steps list.
* ``links-not-in-artifact`` — JSON engine events of a DNS record whose value is unknown at preview: the pack links it
  to what it points at through the record's dependencies, which events never carry (``dns-linked-exposure`` could
  not judge it). ``--state`` (a stack export that has the record) gives them.

And one relief that is no pass: a resource whose provider the artifact lacks is still judged when its own properties
decide where it serves (a CDN domain's ``scope``), instead of only ``provider-not-in-artifact``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from china_site.engine.artifacts import STACK_TYPE, Artifact, Record
from china_site.safeio import clip

if TYPE_CHECKING:
    from china_site.engine.driver import Diagnostic

RUN_FAILED = "run-failed"
RESOURCES_NOT_IN_ARTIFACT = "resources-not-in-artifact"
LINKS_NOT_IN_ARTIFACT = "links-not-in-artifact"
DNS_LINKED_EXPOSURE = "dns-linked-exposure"
_MAX_ERRORS = 5  # error lines quoted in the finding; the rest are counted
# Pulumi's colour directives (``<{%fg 1%}>``, ``<{%reset%}>``): in engine events written without ``--color never``.
_COLOR_DIRECTIVE = re.compile(r"<\{%[^%]*%\}>")


def _stack_name(artifact: Artifact) -> str:
    return f"{artifact.project or '?'}-{artifact.stack or '?'}"


def gap_finding(policy: str, artifact: Artifact, message: str, *, record: Record | None = None) -> Diagnostic:
    """A mandatory audit-only finding (the run failed, or the artifact lacks what a check needs — never a silent
    pass): on ``record`` when one resource is concerned, else on the stack."""
    from china_site.engine.driver import Diagnostic

    if record is None:
        return Diagnostic(policy, "mandatory", "", STACK_TYPE, _stack_name(artifact), message)
    return Diagnostic(policy, "mandatory", record.urn, record.type, record.name, message)


def run_failure_diagnostics(artifact: Artifact) -> list[Diagnostic]:
    """One mandatory stack-level ``run-failed`` finding quoting the run's errors, when the run failed."""

    if not artifact.run_failures:
        return []
    seen: dict[str, None] = {}
    for failure in artifact.run_failures:
        text = " ".join(_COLOR_DIRECTIVE.sub("", failure.message).split())
        if failure.urn:
            text += f" ({failure.urn})"
        seen.setdefault(clip(text, 400), None)
    errors = list(seen)
    quoted = "\n".join(f"- {e}" for e in errors[:_MAX_ERRORS])
    if len(errors) > _MAX_ERRORS:
        quoted += f"\n- … and {len(errors) - _MAX_ERRORS} more error(s)"
    what = "preview" if artifact.kind == "preview" else "run"
    return [
        gap_finding(
            RUN_FAILED,
            artifact,
            (
                "A Pulumi run that failed never passes an audit: the engine deploys nothing from it.\n"
                f"The Pulumi {what} that wrote {artifact.source or 'the artifact'} failed (a program that refuses a "
                "mainland deploy without its filings, a provider error, or a mandatory policy violation):\n"
                "写出该文件的 Pulumi 运行失败（程序拒绝部署、云服务错误或强制策略违规），"
                "引擎不会部署，审计不能通过：\n"
                f"{quoted}\n"
                "Fix: fix what the errors above name (for a refusal: file the domain, or choose hosting: hongkong), "
                "then run the preview again and audit its output; check the exit code of `pulumi` in your pipeline "
                "too (`set -o pipefail`)."
            ),
        )
    ]


def uncarried_diagnostics(artifact: Artifact) -> list[Diagnostic]:
    """``resources-not-in-artifact`` when JSON engine events carry fewer resources than their summaryEvent counts
    (events filtered, or lost between the engine and the file)."""

    if artifact.kind not in ("events", "preview") or artifact.events_cut_off:  # a cut-off stream is said already
        return []
    missing = artifact.counted_resources - artifact.carried_resources
    if missing <= 0:
        return []
    if artifact.kind == "preview":
        return [
            gap_finding(
                RESOURCES_NOT_IN_ARTIFACT,
                artifact,
                (
                    "The preview must list every resource it changes.\n"
                    f"The changeSummary of {artifact.source or 'the artifact'} counts "
                    f"{artifact.counted_resources} created, updated or replaced resource(s) but its steps list "
                    f"{artifact.carried_resources}, so {missing} were not checked (the document was filtered or cut).\n"
                    f"该预览的 changeSummary 统计了 {artifact.counted_resources} 个变更的资源，但 steps 中只有 "
                    f"{artifact.carried_resources} 个，{missing} 个资源未被检查。\n"
                    "Fix: audit the whole, unedited output of `pulumi preview --json --show-sames`."
                ),
            )
        ]
    return [
        gap_finding(
            RESOURCES_NOT_IN_ARTIFACT,
            artifact,
            (
                "The engine events must carry every resource their run counts.\n"
                f"The summaryEvent of {artifact.source or 'the artifact'} counts {artifact.counted_resources} "
                "resource(s) but the events "
                f"describe {artifact.carried_resources}, so {missing} resource(s) were not checked.\n"
                f"该事件文件的 summaryEvent 统计了 {artifact.counted_resources} 个资源，但事件中只有 "
                f"{artifact.carried_resources} 个，{missing} 个资源未被检查。\n"
                "Fix: save every event unfiltered (`pulumi up --json > events.jsonl`, or every event the Automation "
                "API's on_event received), or audit the state: `pulumi stack export --file state.json`."
            ),
        )
    ]


def unlinked_dns_records(artifact: Artifact) -> list[Record]:
    """DNS records of JSON engine events that link only through dependencies (their A/AAAA/CNAME value is unknown
    at preview) and have none: what they point at is unknown here, where the engine knew it."""
    from china_site.exposure import dns_link

    if artifact.kind != "events":
        return []
    out: list[Record] = []
    for record in artifact.records:
        # The DNS records dns-linked-exposure reads (the same test as the policy's).
        if not record.type.startswith("alicloud:dns/") or record.dependencies or record.property_dependencies:
            continue
        link = dns_link(record.inputs, type_token=record.type)
        if link is None or link.value is not None:
            continue
        done = dns_link(record.outputs or {}, type_token=record.type)
        if done is not None and done.value is not None:  # the update's outputs carry the value: linked by it
            continue
        out.append(record)
    return out


def worst_case_links(records: Sequence[Record], unlinked: Sequence[Record]) -> list[Record]:
    """``records`` with each unlinked DNS record depending on every other resource: as if it pointed at any of them
    (the core keeps those a record of its kind can point at)."""
    todo = {r.urn for r in unlinked}
    everyone = tuple(r.urn for r in records)
    out: list[Record] = []
    for record in records:
        if record.urn in todo:
            others = tuple(u for u in everyone if u != record.urn)
            record = replace(record, dependencies=others, property_dependencies={"value": others})
        out.append(record)
    return out


def link_gap_diagnostics(
    artifact: Artifact, judge: Callable[[list[Record]], Sequence[Diagnostic]] | None = None
) -> list[Diagnostic]:
    """``links-not-in-artifact`` for each DNS record of engine events that links only through dependencies it does
    not carry — never more lenient than the engine, which has them and reports ``dns-linked-exposure``.

    ``judge`` runs the pack's ``dns-linked-exposure`` over records. With it, a record gets the finding only when
    pointing it at some resource of the stack would be a mandatory violation (:func:`worst_case_links`): a record
    that no link can make a violation (a filed name, no mainland target) is not a gap. Without it, every such
    record gets the finding."""
    from china_site.exposure import dns_link

    unlinked = unlinked_dns_records(artifact)
    if not unlinked:
        return []
    if judge is not None:
        found = judge(worst_case_links(artifact.judged_records, unlinked))
        could = {d.urn for d in found if d.policy == DNS_LINKED_EXPOSURE and d.enforcement == "mandatory"}
        unlinked = [r for r in unlinked if r.urn in could]
    out: list[Diagnostic] = []
    for record in unlinked:
        link = dns_link(record.inputs, type_token=record.type)
        assert link is not None
        what = f"{record.type} '{record.name}'"
        out.append(
            gap_finding(
                LINKS_NOT_IN_ARTIFACT,
                artifact,
                record=record,
                message=(
                    "The artifact must carry what ties a DNS name to the resource it serves: dns-linked-exposure "
                    "judges that resource for the name.\n"
                    f"{what} points {link.fqdn} ({link.record_type}) at a value unknown until deploy; the engine ties "
                    "it to the resource through the record's dependencies, which JSON engine events do not carry "
                    f"({artifact.source or 'the artifact'}). Pointed at some resources of this stack it would be a "
                    f"violation, so what {link.fqdn} serves was not checked.\n"
                    f"{what} 将 {link.fqdn} 指向部署前未知的值；引擎事件不包含资源依赖关系，无法确定该域名指向的资源，"
                    "因此未检查。\n"
                    "Fix: also pass the current state (`pulumi stack export --file state.json`, then `china-site "
                    "audit events.jsonl --state state.json`) once the record exists, or audit `pulumi preview --json "
                    "--show-sames` output, which carries the dependencies."
                ),
            )
        )
    return out


# Two regions on either side of the line the filing rules draw: a resource whose exposure is the same under both is
# placed by its own properties (a CDN domain's scope), not by its provider's region.
_PROBE_REGIONS = ("cn-hangzhou", "cn-hongkong")


def decided_by_itself(record: Record, stack_config: Mapping[str, str] | None = None) -> bool:
    """Whether a resource's own properties decide where it serves: its exposure (public or not, and its area) is the
    same whatever its provider's region. Such a resource can be judged when its provider is missing from the
    artifact; any other cannot (its region is unknown, and reading it as mainland would invent violations)."""
    from china_site.exposure import exposure_from_resource

    seen = set()
    for region in _PROBE_REGIONS:
        exposure = exposure_from_resource(
            record.type,
            record.inputs,
            name=record.name,
            provider_props={"region": region},
            stack_config=stack_config,
            explicit_provider=True,
        )
        if exposure is None:
            return False  # not a type the data covers: nothing says its region does not matter
        seen.add((exposure.public, exposure.area))
    return len(seen) == 1


def judge_what_decides_itself(artifact: Artifact) -> Artifact:
    """The artifact with the resources whose own properties decide the verdict taken out of ``missing_providers``
    (so they are judged, with their provider's region unknown) — the rest keep ``provider-not-in-artifact``."""
    if not artifact.missing_providers:
        return artifact
    rest = tuple(m for m in artifact.missing_providers if not decided_by_itself(m.record, artifact.config))
    return replace(artifact, missing_providers=rest)
