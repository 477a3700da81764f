"""The ``china-site`` command (typer + rich). Thin: every decision is the core's.

Exit codes: 0 = no mandatory finding; 1 = mandatory findings (or nothing found where something was asked);
2 = bad input or usage, as one line naming the file, entry and field (a traceback only with ``--debug``).

This module assembles the typer app and is the console script's entry (``china_site.cli:main``); the commands live
in :mod:`china_site.commands`, one module per command family (``advise``; ``filings`` and ``footer``; ``preflight``
and ``audit``; ``pack-dir``, ``provider-dir`` and ``publish-dir``). Their names stay importable from here.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from china_site.commands.advise import advise
from china_site.commands.checks import _AUDIT_HELP, _PREFLIGHT_HELP, ReportFormat, audit, preflight
from china_site.commands.common import EntityOpt, Format, OriginOpt, _state, user_errors
from china_site.commands.filings import filings_expiring, filings_show, filings_validate, footer
from china_site.commands.folders import pack_dir, provider_dir, publish_dir
from china_site.errors import ChinaSiteError

__all__ = [
    "EntityOpt",
    "Format",
    "OriginOpt",
    "ReportFormat",
    "advise",
    "app",
    "audit",
    "filings_app",
    "filings_expiring",
    "filings_show",
    "filings_validate",
    "footer",
    "main",
    "pack_dir",
    "preflight",
    "provider_dir",
    "publish_dir",
    "user_errors",
]

app = typer.Typer(
    name="china-site",
    help="Websites for Chinese users on Alibaba Cloud within China's filing rules (ICP, PSB, commercial permits).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
filings_app = typer.Typer(help="Validate and query the filing registry.", no_args_is_help=True)
app.add_typer(filings_app, name="filings")


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    _state["debug"] = debug


# The commands, in the order `china-site --help` lists them.
app.command()(advise)
filings_app.command("validate")(filings_validate)
filings_app.command("show")(filings_show)
filings_app.command("expiring")(filings_expiring)
app.command()(footer)
app.command(help=_PREFLIGHT_HELP)(preflight)
app.command(help=_AUDIT_HELP)(audit)
app.command("pack-dir")(pack_dir)
app.command("provider-dir")(provider_dir)
app.command("publish-dir")(publish_dir)


def main() -> None:
    try:
        app()
    except ChinaSiteError as err:  # pragma: no cover - commands already translate these
        if _state["debug"]:
            raise
        print(f"china-site: error: {err.line()}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
