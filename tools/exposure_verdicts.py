"""How many pulumi-alicloud types changed verdict between a git ref (default: main) and this checkout.

    .venv/bin/python tools/exposure_verdicts.py [REF]

Each type is probed with the same inputs in both versions (no inputs, a china-site:domain tag, and every example and
case of either version's data), in cn-shanghai and in cn-hongkong; a type whose (public, area) differs on any probe,
or whose classification differs, changed its single-resource verdict. Stack-level effects (deferred types,
suppressors, ties, links, areas, opaque template types) are listed apart: their verdict depends on other resources.
Read-only: the ref's ``china_site`` is extracted with ``git archive`` into a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = r"""
import json, sys
from china_site.exposure import exposure_from_resource, RESOURCE_TYPES, reviewed_types
probes = json.load(open(sys.argv[1]))
reviewed = reviewed_types()
out = {}
for token, plist in probes.items():
    row = []
    for props in plist:
        for region in ("cn-shanghai", "cn-hongkong"):
            try:
                e = exposure_from_resource(token, props, provider_props={"region": region})
            except Exception as exc:
                row.append(["error", type(exc).__name__])
                continue
            row.append(None if e is None else [e.public, e.area])
    kind = "exposing" if token in RESOURCE_TYPES else ("reviewed" if token in reviewed else "none")
    out[token] = {"class": kind, "row": row}
json.dump(out, open(sys.argv[2], "w"))
"""


def main() -> None:
    import yaml

    ref = sys.argv[1] if len(sys.argv) > 1 else "main"
    with tempfile.TemporaryDirectory() as tmp:
        old_root = Path(tmp) / "old"
        old_root.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "china_site"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(old_root)], input=archive.stdout, check=True)
        data = "china_site/data/exposure_types.yaml"
        old = yaml.safe_load((old_root / data).read_text(encoding="utf-8"))
        new = yaml.safe_load((ROOT / data).read_text(encoding="utf-8"))
        tokens = set(old["exposing"]) | set(new["exposing"]) | {t for ts in new["reviewed"].values() for t in ts}
        tag = {"tags": {"china-site:domain": "www.unfiled-example.cn"}}
        probes: dict[str, list[dict[str, object]]] = {}
        for token in sorted(tokens):
            plist: list[dict[str, object]] = [{}, dict(tag)]
            for version in (old, new):
                entry = version["exposing"].get(token) or {}
                if entry.get("example"):
                    plist.append({**entry["example"], **tag})
                for case in entry.get("cases") or []:
                    plist += [{**case["public"], **tag}, {**case["private"], **tag}]
            probes[token] = plist
        probe_file, script = Path(tmp) / "probes.json", Path(tmp) / "probe.py"
        probe_file.write_text(json.dumps(probes), encoding="utf-8")
        script.write_text(PROBE, encoding="utf-8")
        results = {}
        for name, root in (("old", old_root), ("new", ROOT)):
            target = Path(tmp) / f"{name}.json"
            subprocess.run(
                [sys.executable, str(script), str(probe_file), str(target)],
                check=True,
                cwd=tmp,
                env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
            )
            results[name] = json.loads(target.read_text(encoding="utf-8"))
    changed = sorted(t for t in results["new"] if results["old"].get(t) != results["new"][t])
    stack = new.get("stack") or {}
    staged = set(stack.get("deferred") or ()) | set(stack.get("ties") or ()) | set(stack.get("links") or ())
    staged |= set(stack.get("disabled_records") or ())
    for rule in (stack.get("suppressors") or {}).values():
        staged |= set(rule.get("targets") or ())
    staged |= {t for t, spec in (new.get("templates") or {}).get("types", {}).items() if spec.get("opaque")}
    staged -= set(changed)
    print(f"types: {len(results['new'])}; single-resource verdict changed: {len(changed)}")
    for token in changed:
        print(f"  {token}: {results['old'][token]['class']} -> {results['new'][token]['class']}")
    print(f"stack-level or template verdict changed (depends on other resources): {len(staged)}")
    for token in sorted(staged):
        print(f"  {token}")
    print(f"total: {len(changed) + len(staged)}")


if __name__ == "__main__":
    main()
