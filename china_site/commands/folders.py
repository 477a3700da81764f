"""Folders for the Pulumi CLI: ``china-site pack-dir`` (a working policy pack), ``china-site provider-dir`` (the
provider plugin) and ``china-site publish-dir`` (a pack folder for ``pulumi policy publish``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from china_site.commands.common import user_errors


def pack_dir(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Write the pack here instead of the cache folder.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a --dir folder that holds files other than a china-site pack (overwrites them)."
        ),
    ] = False,
) -> None:
    """Print a folder that is a working policy pack: pulumi preview --policy-pack "$(china-site pack-dir)".

    The pack shipped with this installation, copied into the cache (CHINA_SITE_CACHE_DIR, else XDG_CACHE_HOME/
    china-site) with its virtualenv set to this interpreter's environment (where china-site is installed)."""
    from china_site.packdir import materialise

    with user_errors():
        folder = materialise(directory, force=force)
    typer.echo(str(folder))


def provider_dir() -> None:
    """Print the folder of the china-site provider plugin: pulumi package add "$(china-site provider-dir)".

    The plugin (``pulumi-resource-china-site``, this environment's interpreter) is put into Pulumi's plugin cache
    ($PULUMI_HOME/plugins, ~/.pulumi by default) first, where the engine finds it like any provider."""
    from china_site.provider.install import ensure_installed

    try:
        folder = ensure_installed()
    except OSError as err:
        print(
            f"china-site: error: cannot write the provider plugin into Pulumi's plugin cache ({err.strerror}) / "
            "无法写入 Pulumi 插件缓存 — set PULUMI_HOME to a writable folder",
            file=sys.stderr,
        )
        raise typer.Exit(2) from None
    typer.echo(str(folder))


def publish_dir(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) folder to write the pack to.")],
) -> None:
    """Write a policy pack folder for `pulumi policy publish`: the pack, china-site's own wheel and a
    requirements.txt that installs that wheel (china-site is not on PyPI), then: cd DIR && pulumi policy publish."""
    from china_site.publishdir import write_publish_dir

    with user_errors():
        folder = write_publish_dir(directory)
    typer.echo(str(folder))
