"""china-site benchmarks: what users feel, as ratios to a floor measured in the same run (``python -m bench``).

One module per figure, each with ``run(sizes, work_dir) -> dict``; see bench/README.md.
"""

from __future__ import annotations

# name → title, in the order they run (and appear in the table and in bench/results.json).
FIGURES: dict[str, str] = {
    "pack_call_overhead": "Analyze calls over gRPC: our pack vs one no-op policy",
    "pack_startup": "pack start-up: spawn → port line → channel ready",
    "audit_throughput": "in-process audit of a stack export vs json.load + one pass",
    "registry": "filing registry: covering() lookups/s; load time linear in size",
    "content_sync": "content sync: no-op resync vs one ListObjectsV2 pass; one change = one PUT",
    "preflight": "preflight: per resource vs bare Pulumi mocks",
}

# Figures that run the real Pulumi engine (tools/pulumi-engine.sh and the local cloud of tests/e2e): part of the full
# run (`make bench`) and of `--only`, never of the quick smoke run.
ENGINE_FIGURES: dict[str, str] = {
    "provider_preview": "pulumi preview of the sample site: YAML through the provider plugin vs the Python component",
}
