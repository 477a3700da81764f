"""Figure 6 — preflight: a generated 200-site Pulumi program, time per resource vs bare Pulumi mocks registering the
same resources.

The program (written into the work directory: ``Pulumi.yaml``, ``Pulumi.bench.yaml``, ``__main__.py``,
``sites.json``, a registry and a small content folder) creates one ``china_site.components.site.Site`` per site —
hosting
``auto`` for most, explicit ``mainland`` for filed domains, ``hongkong`` for some, a DNS zone and a content folder
for every other site — the way the project's own ``__main__.py`` does (the registry given as a path).

- **Ours**: what ``china-site preflight`` runs — ``china_site.engine.runner.run_program`` (the program under the
  recording mocks) then ``runner.check`` (the pack's Policy objects over every recorded resource).
- **Floor**: the SDK's own mock monitor with mocks that answer every resource with its inputs, replaying the
  recorded resources as plain ``CustomResource`` / ``ComponentResource`` / ``ProviderResource`` objects (same types,
  names, parents, providers and inputs; no component logic, no recording, no pack).

The issue sets no goal for this figure; 3× is ours.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from bench._common import TODAY, Sizes, check, figure, interleaved, median

NAME = "preflight"
TITLE = "Preflight (200-site program)"
GOAL = 3.0
PROJECT = "bench-sites"
STACK = "bench"

_PROGRAM = '''"""A generated benchmark program: one Site per entry of sites.json (bench/preflight.py)."""

import json
from pathlib import Path

import pulumi

from china_site.components.site import Site, SiteArgs

HERE = Path(__file__).resolve().parent
SPEC = json.loads((HERE / "sites.json").read_text(encoding="utf-8"))

for i, spec in enumerate(SPEC["sites"]):
    site = Site(
        f"site{i}",
        SiteArgs(
            domain=spec["domain"],
            hosting=spec["hosting"],
            mainland_region=spec["region"],
            filings=str(HERE / "filings.json"),
            payments=spec["payments"],
            content_dir=str(HERE / "content") if spec["content"] else None,
            dns_zone=spec["zone"],
            today=SPEC["today"],
        ),
    )
    pulumi.export(f"url{i}", site.url)
'''


def write_program(directory: Path, n_sites: int, *, seed: int = 61) -> int:
    """Write the program; returns the number of sites."""
    from bench import gen

    rng = random.Random(seed)
    registry, facts = gen.registry_document(max(3 * n_sites, 20), seed=seed, idn_share=0.0)
    usable = [f for f in facts if f.status == "approved" and f.alibaba and f.psb and f.eligible and not f.payments]
    rng.shuffle(usable)
    others = gen.unfiled_domains(n_sites, seed=seed + 1)
    sites = []
    for i in range(n_sites):
        filed = bool(usable) and rng.random() < 0.6
        domain = usable.pop().domain if filed else others[i]
        hosting = "mainland" if filed and rng.random() < 0.5 else ("hongkong" if rng.random() < 0.2 else "auto")
        sites.append(
            {
                "domain": f"www.{domain}",
                "hosting": hosting,
                "region": rng.choice(["cn-shanghai", "cn-hangzhou", "cn-beijing"]),
                "payments": False,
                "content": i % 2 == 0,
                "zone": domain if i % 2 == 1 else None,
            }
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "filings.json").write_text(json.dumps(registry, ensure_ascii=False), encoding="utf-8")
    (directory / "sites.json").write_text(json.dumps({"today": TODAY, "sites": sites}, indent=1), encoding="utf-8")
    (directory / "__main__.py").write_text(_PROGRAM, encoding="utf-8")
    (directory / "Pulumi.yaml").write_text(
        f"name: {PROJECT}\nruntime: python\ndescription: generated benchmark program (bench/preflight.py)\n",
        encoding="utf-8",
    )
    (directory / f"Pulumi.{STACK}.yaml").write_text(
        f"config:\n  china-site:filings: filings.json\n  china-site:today: '{TODAY}'\n", encoding="utf-8"
    )
    gen.site_folder(directory / "content", 12, seed=seed + 2)
    return len(sites)


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    import datetime as dt

    from bench._mocks import BareMocks, RecordingMonitor, replay_body, run_under_mocks
    from china_site.engine import runner

    program = work / "program"
    sites = write_program(program, sz.preflight_sites)
    pack = runner.load_pack()
    today = dt.date.fromisoformat(TODAY)
    split: dict[str, float] = {}
    last: dict[str, Any] = {}

    def ours() -> int:
        """``china-site preflight``: run the program offline, then the pack over what it registered. Each round is
        one command run: the registries ``load_registry`` keeps per process are forgotten first."""
        from china_site.filings import clear_registry_cache

        clear_registry_cache()
        started = time.perf_counter()
        result = runner.run_program(program, STACK)
        if result.refusal is not None:
            raise RuntimeError(f"the generated program refused: {result.refusal.message}")
        ran = time.perf_counter()
        checked = runner.check(
            result.records,
            pack=pack,
            stack_config=result.config,
            today=today,
            stack=STACK,
            project=result.project,
            project_dir=program,
        )
        split["program_s"], split["pack_s"] = ran - started, time.perf_counter() - ran
        last["records"], last["diagnostics"] = result.records, checked.diagnostics
        return len(result.records)

    ours()  # warm-up (imports, data files), and the resource set to replay
    replay = replay_body(last["records"])

    def floor() -> int:
        monitor = RecordingMonitor(BareMocks())
        run_under_mocks(replay, monitor=monitor, project=PROJECT, stack=STACK, cwd=program)
        return len(monitor.registrations) + 1  # + the Stack

    floor_times, our_times, floor_n, n = interleaved(sz.preflight_rounds, floor, ours)
    if floor_n != n:
        raise RuntimeError(f"the replay registered {floor_n} resources, the program {n}")
    types: dict[str, int] = {}
    for record in last["records"]:
        types[record.type] = types.get(record.type, 0) + 1
    levels = [d.enforcement for d in last["diagnostics"]]
    primary = check(
        "per resource (program + pack) vs bare mocks",
        floor=median(floor_times) / n,
        ours=median(our_times) / n,
        unit="s/resource",
        goal=GOAL,
        n=n,
    )
    return figure(
        primary,
        engine="china_site.engine.runner: run_program + check (what china-site preflight runs)",
        sites=sites,
        resources=n,
        preflight_s=median(our_times),
        bare_mocks_s=median(floor_times),
        last_program_s=split["program_s"],
        last_pack_s=split["pack_s"],
        mandatory=levels.count("mandatory"),
        advisory=levels.count("advisory"),
        resource_types=dict(sorted(types.items(), key=lambda kv: -kv[1])),
    )
