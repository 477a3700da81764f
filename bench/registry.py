"""Figure 4 — the filing registry: ``covering()`` lookups per second, and load time linear in the registry's size.

Registries are generated valid (province characters matching the entities, website numbers under their entity's
number, PSB digits starting with the province code, ordered dates; 1% IDN domains) and written as JSON.

- **Lookups**: random hosts — subdomains (``www.``, ``a.b.c.``, wildcards, upper case) of filed domains (70%) and of
  domains no registry holds — looked up with ``FilingRegistry.covering`` on the large registry. Floor: the bare
  algorithm on a plain dict (lower-case the host, look up it and each parent suffix). Goal: ≥ 200,000 lookups/s.
- **Load**: ``china_site.filings.decode_registry`` + ``parse_registry`` (JSON with duplicate-key checks, validation,
  cross-checks, the domain index) — ``load_registry`` minus reading the file (and minus its per-process cache of
  files already loaded), which also refuses files above ``MAX_REGISTRY_BYTES``. Linearity: the
  per-site time of the large registry over the per-site time of a registry 10× smaller; goal ≤ 1.5.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench._common import Sizes, check, figure, interleaved, median

NAME = "registry"
TITLE = "Filing registry (lookups, load linearity)"
LOOKUP_GOAL = 200_000.0
LINEARITY_GOAL = 1.5


def _load(raw: bytes, source: str) -> Any:
    """What ``load_registry`` does with the bytes of a ``.json`` file (its decoder rejects duplicate keys)."""
    from china_site.filings import decode_registry, parse_registry

    return parse_registry(decode_registry(raw, source=source, fmt="json"), source=source)


def _bare_lookup(index: dict[str, Any], hosts: list[str]) -> int:
    hits = 0
    for host in hosts:
        name = host.lower()
        if name.startswith("*."):
            name = name[2:]
        parts = name.split(".")
        for i in range(len(parts)):
            if ".".join(parts[i:]) in index:
                hits += 1
                break
    return hits


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    from bench import gen
    from china_site.filings import MAX_REGISTRY_BYTES

    small_doc, _ = gen.registry_document(sz.registry_small, seed=41)
    large_doc, facts = gen.registry_document(sz.registry_large, seed=42)
    small_raw = json.dumps(small_doc, ensure_ascii=False).encode("utf-8")
    large_raw = json.dumps(large_doc, ensure_ascii=False).encode("utf-8")
    (work / "small.json").write_bytes(small_raw)
    (work / "large.json").write_bytes(large_raw)
    del small_doc, large_doc

    _load(small_raw, "warm-up.json")  # lazy imports, the Public Suffix List, data files
    small_times, large_times, small_reg, registry = interleaved(
        sz.registry_rounds, lambda: _load(small_raw, "small.json"), lambda: _load(large_raw, "large.json")
    )
    small_per_site = median(small_times) / sz.registry_small
    large_per_site = median(large_times) / sz.registry_large

    hosts = gen.lookup_hosts(facts, sz.lookups, seed=43)
    index = {site.domain: site for site in registry.sites}

    def ours() -> int:
        covering = registry.covering
        return sum(1 for host in hosts if covering(host) is not None)

    ours()  # warm-up (IDN codec)
    floor_times, our_times, floor_hits, our_hits = interleaved(
        max(3, sz.registry_rounds), lambda: _bare_lookup(index, hosts), ours
    )
    floor_per, our_per = median(floor_times) / len(hosts), median(our_times) / len(hosts)
    primary = check(
        "covering() per lookup (goal in lookups/s)",
        floor=floor_per,
        ours=our_per,
        unit="s/lookup",
        goal=LOOKUP_GOAL,
        kind="min_rate",
        rate=1 / our_per,
        n=len(hosts),
    )
    linearity = check(
        f"load per site: {sz.registry_large:,} vs {sz.registry_small:,} sites",
        floor=small_per_site,
        ours=large_per_site,
        unit="s/site",
        goal=LINEARITY_GOAL,
        n=sz.registry_large,
    )
    return figure(
        primary,
        checks=[linearity],
        lookups_per_s=1 / our_per,
        floor_lookups_per_s=1 / floor_per,
        hits=our_hits,
        floor_hits=floor_hits,
        sites=len(registry.sites),
        entities=len(registry.entities),
        small_sites=len(small_reg.sites),
        load_small_s=median(small_times),
        load_large_s=median(large_times),
        large_file_mb=len(large_raw) / 1e6,
        over_max_registry_bytes=len(large_raw) > MAX_REGISTRY_BYTES,
        max_registry_mb=MAX_REGISTRY_BYTES / 1e6,
    )
