"""Running a Pulumi Python program under the recording mocks: :func:`run_mocked` and its :class:`ProgramRun`.

A callable, a ``__main__.py`` file or a project directory runs exactly as Pulumi's Python host runs it
(``run_in_stack`` + ``runpy.run_path``, working directory = the project, the project on ``sys.path``) with the given
configuration, project and stack names. Every run is isolated: its own thread, event loop and copy of the caller's
context (Pulumi's configuration, settings, mocks and root stack are context variables), so two runs in one process
never see each other. The recorder and its monitor are :mod:`china_site.engine.mocks`'.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import runpy
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from china_site.engine.mocks import Recorder

__all__ = ["Program", "ProgramRun", "run_mocked"]


@dataclass
class ProgramRun:
    recorder: Recorder
    error: BaseException | None = None
    error_message: str | None = None  # what `pulumi up` would print: a RunError's message, else a traceback

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack outputs (``pulumi.export``), resolved; secrets stay wrapped."""
        return self.recorder.stack_outputs()

    @property
    def ok(self) -> bool:
        return self.error is None

    def messages(self, severity: str | None = None) -> list[str]:
        return [e.message for e in self.recorder.logs if severity is None or e.severity == severity]


Program = Callable[[], Any] | str | os.PathLike[str]

_RUN_LOCK = threading.Lock()  # one program at a time per process: runs change the working directory


def run_mocked(
    program: Program,
    config: Mapping[str, str] | None = None,
    *,
    project: str = "china-site",
    stack: str = "dev",
    preview: bool = False,
    secret_keys: Sequence[str] = (),
    recorder: Recorder | None = None,
    cwd: str | os.PathLike[str] | None = None,
    organization: str = "organization",
    check: bool = True,
) -> ProgramRun:
    """Run ``program`` under mocks and return what it registered.

    ``program``: a callable (the program body), a ``__main__.py`` path, or a project directory (run as
    ``runpy.run_path(dir)``, as Pulumi's Python host does). ``config``: flat ``namespace:key`` → string map (see
    :func:`china_site.engine.runner.project_config`). The working directory is ``cwd``, else the program's directory,
    and is restored after. Each run is isolated: its own thread and event loop, its own context (configuration,
    settings, mocks, root stack). ``check``: re-raise the program's exception; otherwise it is left in
    :attr:`ProgramRun.error`.
    """
    from china_site.engine.mocks import Recorder, _recording_engine, _recording_monitor, _register_mocks_abc

    _register_mocks_abc()
    recorder = recorder or Recorder()
    recorder.project, recorder.stack = project, stack
    recorder.config = dict(config or {})
    path: Path | None = None
    if callable(program):
        body: Callable[[], Any] = program
    else:
        path = Path(program).resolve()
        if not path.exists():
            raise FileNotFoundError(f"no Pulumi program at {path}")
        body = _path_body(path)
    workdir = (
        Path(cwd)
        if cwd is not None
        else (path if path is not None and path.is_dir() else (path.parent if path else None))
    )
    run = ProgramRun(recorder)

    def go() -> None:
        import pulumi
        from pulumi.runtime import config as runtime_config
        from pulumi.runtime import settings as runtime_settings
        from pulumi.runtime.rpc_manager import RPCManager
        from pulumi.runtime.stack import run_in_stack

        runtime_config.set_all_config(dict(recorder.config), list(secret_keys))
        monitor = _recording_monitor(recorder)
        features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
        runtime_settings.ROOT.set(None)
        # A complete, fresh set of settings: every one (outstanding outputs, RPC manager, lock, package references,
        # …) starts empty, so nothing a previous Pulumi program or test left in the caller's context (e.g.
        # pulumi.runtime.set_mocks in the main thread) is waited on or reused by this run.
        _configure_in_context(
            {
                "rpc_manager": RPCManager(),
                "monitor": monitor,
                "monitor_features": features,
                "engine": _recording_engine(recorder),
                "project": project,
                "stack": stack,
                "dry_run": preview,
                "organization": organization,
                "root_directory": str(workdir) if workdir else None,
                "callbacks": None,
                "outputs": set(),
                "lock": threading.Lock(),
                "package_refs": {},
                "base_providers_by_ref": {},
                "parallel": None,
                "legacy_apply_enabled": os.getenv("PULUMI_ENABLE_LEGACY_APPLY", "false") == "true",  # as Settings
            }
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        old_cwd = os.getcwd()
        # As Pulumi's host does: a failed program leaves futures unobserved; asyncio's complaints are noise.
        asyncio_logger = logging.getLogger("asyncio")
        old_level = asyncio_logger.level
        asyncio_logger.setLevel(logging.CRITICAL)
        try:
            if workdir is not None:
                os.chdir(workdir)
            loop.run_until_complete(run_in_stack(body))
        except pulumi.RunError as err:
            run.error, run.error_message = err, str(err)
        except BaseException as err:
            run.error = err
            run.error_message = "Program failed with an unhandled exception:\n" + "".join(
                traceback.format_exception(err)
            )
        finally:
            os.chdir(old_cwd)
            asyncio_logger.setLevel(old_level)
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                asyncio.set_event_loop(None)

    # Its own thread (so its own event loop: the caller's loop and pytest's are left alone) and a copy of the
    # caller's context (so configuration, settings and the root stack of this run stay in this run).
    with _RUN_LOCK:
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(go,), name="pulumi-program", daemon=True)
        thread.start()
        thread.join()
    if check and run.error is not None:
        raise run.error
    return run


def _configure_in_context(values: Mapping[str, Any]) -> None:
    """``pulumi.runtime.configure``, confined to the current context.

    Pulumi's settings are context variables, but assigning one whose current value is None also replaces its
    process-wide *default* (``pulumi._utils.ContextProperty.fset``) — and building a ``Settings`` object assigns
    them all — which would hand this run's monitor, engine and pending outputs to every context that has not set
    its own (a thread started later, another run), where they could be reused or waited on. Set the context
    variables themselves instead. A setting not in ``values`` (one a newer SDK added) is set to None here, so it too
    is this run's own rather than whatever default an earlier run left.
    """
    from pulumi._utils import ContextProperty
    from pulumi.runtime.settings import SETTINGS, Settings

    properties = {key: prop for key, prop in vars(Settings).items() if isinstance(prop, ContextProperty)}
    for key, prop in properties.items():
        prop._data.set(values.get(key))
    for key, value in values.items():
        if key not in properties:
            setattr(SETTINGS, key, value)


def _path_body(path: Path) -> Callable[[], Any]:
    def body() -> Any:
        directory = str(path if path.is_dir() else path.parent)
        added = directory not in sys.path
        if added:
            sys.path.insert(0, directory)
        try:
            return runpy.run_path(str(path), run_name="__main__")
        finally:
            if added and directory in sys.path:
                sys.path.remove(directory)

    return body
