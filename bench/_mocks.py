"""Bare Pulumi mocks: run a program body under ``pulumi.runtime.Mocks`` that answer every resource with its own
inputs (the least any mock run must do), record the ``RegisterResource`` requests, and replay a recorded resource
set with plain ``CustomResource`` / ``ComponentResource`` / ``ProviderResource`` objects (no component logic)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as _mocks


def _quiet_logger() -> logging.Logger:
    """Where the program's ``pulumi.log`` messages go: nowhere (a benchmark prints only its table)."""
    logger = logging.getLogger("bench.mocks")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger


class BareMocks(_mocks.Mocks):
    def new_resource(self, args: _mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: _mocks.MockCallArgs) -> dict[Any, Any]:
        return {}


class RecordingMonitor(_mocks.MockMonitor):
    """The SDK's mock monitor, keeping (urn, request) for every registration."""

    def __init__(self, mocks: _mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[tuple[str, Any]] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append((response.urn, request))
        return response


def run_under_mocks(
    body: Callable[[], Any],
    *,
    monitor: _mocks.MockMonitor,
    project: str,
    stack: str,
    config: dict[str, str] | None = None,
    cwd: Path | None = None,
    preview: bool = True,
) -> None:
    """Run ``body`` as Pulumi's Python host runs a program (``run_in_stack``), against ``monitor``; re-raises."""

    def go() -> None:
        from pulumi.runtime import config as _config
        from pulumi.runtime import settings as _settings
        from pulumi.runtime.stack import run_in_stack

        _config.set_all_config(dict(config or {}), [])
        features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
        _settings.ROOT.set(None)
        _settings.configure(
            _mocks.MockSettings(
                monitor=monitor,
                monitor_features=features,
                engine=_mocks.MockEngine(_quiet_logger()),
                project=project,
                stack=stack,
                dry_run=preview,
                organization="organization",
                root_directory=str(cwd) if cwd else None,
                callbacks=None,
            )
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        old_cwd = os.getcwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            loop.run_until_complete(run_in_stack(body))
        finally:
            os.chdir(old_cwd)
            loop.close()
            asyncio.set_event_loop(None)

    contextvars.copy_context().run(go)


def replay_body(records: list[Any]) -> Callable[[], None]:
    """A program registering exactly ``records`` (``china_site.engine.artifacts.Record``: same types, names,
    parents, providers and wire inputs; the Stack itself is the program's root and is not replayed)."""
    plan = [
        (
            r.urn,
            r.type,
            r.name,
            bool(r.custom),
            r.parent or "",
            r.provider.urn if r.provider is not None else "",
            dict(r.inputs),
        )
        for r in records
        if r.type != "pulumi:pulumi:Stack"
    ]

    def body() -> None:
        made: dict[str, pulumi.Resource] = {}
        for urn, type_, name, custom, parent, provider, props in plan:
            opts = pulumi.ResourceOptions(parent=made.get(parent), provider=made.get(provider))  # type: ignore[arg-type]
            resource: pulumi.Resource
            if type_.startswith("pulumi:providers:"):
                resource = pulumi.ProviderResource(type_.split(":", 2)[2], name, props, opts)
            elif custom:
                resource = pulumi.CustomResource(type_, name, props, opts)
            else:
                resource = pulumi.ComponentResource(type_, name, None, opts)
                resource.register_outputs({})
            made[urn] = resource

    return body
