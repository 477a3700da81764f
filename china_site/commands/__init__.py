"""The ``china-site`` commands, one module per command family; :mod:`china_site.cli` assembles the typer app.

* :mod:`.common` — what every command shares: the ``--debug`` state, user errors as one line (exit 2), safe terminal
  text, dates, the registry loader, the option enums;
* :mod:`.advise` — ``advise``;
* :mod:`.filings` — ``filings validate|show|expiring`` and ``footer`` (the registry's commands);
* :mod:`.checks` — ``preflight`` and ``audit`` (the offline engine) and how their reports are written;
* :mod:`.folders` — ``pack-dir``, ``provider-dir`` and ``publish-dir`` (folders for the Pulumi CLI).

Every module imports typer and the standard library only at import time; the rest (rich, pydantic models, Pulumi,
the engine) inside the commands, so ``china-site --help`` starts fast.
"""
