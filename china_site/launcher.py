"""The ``china-site`` console script: the command line needs the ``cli`` extra; without it, one line saying so.

The base install of china-site is what the policy pack imports (a published pack installs only that); the command's
own libraries (typer, rich, jsonschema) come with ``pip install "china-site[cli]"`` (or ``china-site[all]``).
"""

from __future__ import annotations

import sys

CLI_MODULES = ("typer", "rich", "jsonschema")


def missing_cli_modules() -> list[str]:
    """The command's libraries that cannot be imported here."""
    import importlib.util

    return [name for name in CLI_MODULES if importlib.util.find_spec(name) is None]


def main() -> None:
    missing = missing_cli_modules()
    if missing:
        print(
            f"china-site: error: the command line needs {', '.join(missing)}, which this installation lacks. "
            'Fix: pip install "china-site[cli]" (or "china-site[all]" for the components too)',
            file=sys.stderr,
        )
        sys.exit(2)
    from china_site.cli import main as cli_main

    cli_main()


if __name__ == "__main__":  # pragma: no cover
    main()
