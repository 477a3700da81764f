"""A policy pack started the way the Pulumi engine starts it, and a gRPC client speaking the analyzer protocol.

``python -m pulumi.policy 127.0.0.1:0 .`` in the pack's directory, with ``PULUMI_CONFIG`` / ``PULUMI_PROJECT`` /
``PULUMI_STACK`` / ``PULUMI_DRY_RUN`` in the environment; the first stdout line is the port (the start and the stop
are ``tests/processes.py``'s, shared with the test harness). Requests are the ones
``china_site.engine.driver`` builds (the engine's encoding: wire names, numbers as doubles, the provider with its
inputs), so both packs receive byte-identical messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.processes import SpawnedPack

PROJECT = "shops"
STACK = "prod"


class Pack(SpawnedPack):
    """One running pack (spawned on construction; ``start_times`` says how long it took) and its ``AnalyzerStub``."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        extra_env: Mapping[str, str] | None = None,
        stack_config: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(
            pack_dir, project=PROJECT, stack=STACK, stack_config=stack_config, extra_env=extra_env, timeout=timeout
        )

    # -- the engine's session ----------------------------------------------------------------------------------------

    def configure(self, properties: Mapping[str, Any] | None = None) -> list[str]:
        """ConfigureStack, GetAnalyzerInfo, then Configure every policy at its default level with ``properties``
        (as a user's ``--policy-pack-config`` repeating shared keys per policy would). Returns the policy names."""
        from google.protobuf import empty_pb2

        from china_site.engine.driver import PolicyConfig, configure_request, configure_stack_request

        self.stub.ConfigureStack(configure_stack_request(STACK, PROJECT, {}, dry_run=True))
        info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        levels = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
        config = {
            p.name: PolicyConfig(levels.get(p.enforcementLevel, "advisory"), dict(properties) if properties else None)  # type: ignore[arg-type]
            for p in info.policies
        }
        self.stub.Configure(configure_request(config))
        return [p.name for p in info.policies]
