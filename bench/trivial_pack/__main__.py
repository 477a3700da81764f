"""The benchmark floor: one no-op resource policy (``BENCH_TRIVIAL_POLICIES=n`` serves n of them, to measure what
the SDK itself costs per policy)."""

import os

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def _noop(args: ResourceValidationArgs, report: ReportViolation) -> None:
    return None


PolicyPack(
    name="trivial",
    policies=[
        ResourceValidationPolicy(
            name=f"no-op-{i}" if i else "no-op",
            description="Does nothing.",
            validate=_noop,
            enforcement_level=EnforcementLevel.ADVISORY,
        )
        for i in range(int(os.environ.get("BENCH_TRIVIAL_POLICIES", "1")))
    ],
)
