"""Where the engine finds ``pulumi-resource-china-site``: Pulumi's plugin cache, like any provider.

The plugin is ``python -m china_site.provider`` of the environment china-site is installed in. The engine does not
look in a virtualenv, and a plugin it finds on ``$PATH`` comes with a warning (and wins over the plugin cache — so
china-site ships no ``pulumi-resource-china-site`` console script, which an activated virtualenv would put on
``PATH``). :func:`ensure_installed` puts a launcher for *this* environment's interpreter into the plugin cache —
``$PULUMI_HOME/plugins/resource-china-site-v<version>/pulumi-resource-china-site`` (``~/.pulumi`` by default), the
place ``pulumi plugin install`` would put it. The Python components call it before registering a china-site
resource (no manual step); ``china-site provider-dir`` calls it and prints the folder, for ``pulumi package add``
in a YAML, TypeScript or Go project.
"""

from __future__ import annotations

import errno
import os
import shlex
import sys
from pathlib import Path

from china_site.provider.schema import PACKAGE, version

__all__ = ["ensure_for_program", "ensure_installed", "launcher_text", "plugin_folder"]

EXECUTABLE = f"pulumi-resource-{PACKAGE}"
# The launcher's second line: what marks a launcher as china-site's own (the only kind it ever rewrites).
_MARK = "# china-site: the provider plugin of a Python environment (written by china-site; rewritten when it moves)"


def plugin_folder(plugin_version: str | None = None) -> Path:
    home = os.environ.get("PULUMI_HOME") or os.path.join(os.path.expanduser("~"), ".pulumi")
    return Path(home) / "plugins" / f"resource-{PACKAGE}-v{plugin_version or version()}"


def launcher_text(python: str | None = None) -> str:
    interpreter = shlex.quote(python or sys.executable)
    return f'#!/bin/sh\n{_MARK}\nexec {interpreter} -m china_site.provider "$@"\n'


def ensure_installed(python: str | None = None) -> Path:
    """The plugin folder, with the launcher for ``python`` (default: this interpreter) written when missing or
    different. Atomic: a concurrent engine never sees half a file."""
    folder = plugin_folder()
    target = folder / EXECUTABLE
    text = launcher_text(python)
    try:
        current = target.read_bytes()[:4096].decode("utf-8", "replace")
    except FileNotFoundError:
        current = None
    except OSError:
        current = ""
    if current == text:
        return folder
    if current is not None and not current.split("\n", 2)[1:2] == [_MARK]:
        # Never write over what china-site did not write (a plugin installed by `pulumi plugin install`, by hand).
        raise FileExistsError(
            errno.EEXIST,
            f"{target} exists and was not written by china-site; remove it (or use its own PULUMI_HOME) to let "
            "china-site install its launcher there",
        )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{EXECUTABLE}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return folder


def ensure_for_program() -> None:
    """Before a Python program registers a china-site resource: the plugin in the cache, unless under Pulumi's mocks
    (tests, preflight: no engine) or inside the plugin itself (Construct: the engine already runs it)."""
    from pulumi.runtime import mocks, settings

    if isinstance(getattr(settings.SETTINGS, "monitor", None), mocks.MockMonitor) or os.environ.get(_IN_PLUGIN):
        return
    try:
        ensure_installed()
    except OSError as err:
        from china_site.components.placement import surface
        from china_site.errors import InputError

        raise surface(
            InputError(
                f"cannot put the china-site provider plugin into Pulumi's plugin cache ({err.strerror})",
                where=str(plugin_folder()),
                fix="set PULUMI_HOME to a writable folder, or run `china-site provider-dir` once as its owner",
            )
        ) from None


_IN_PLUGIN = "CHINA_SITE_PROVIDER_PROCESS"
