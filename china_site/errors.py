"""User-facing errors of the core.

Every error a user can cause is a :class:`ChinaSiteError`: one line saying what is wrong, where (source,
entry, field) and how to fix it. The CLI prints ``str(err)`` and exits 2; it never shows a traceback for
these unless ``--debug`` is given.
"""

from __future__ import annotations


class ChinaSiteError(Exception):
    """Base class of every user error. ``str()`` is a single line: what, where, how to fix."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        """One line in which control characters and escape sequences are shown, not sent to the terminal, each part
        cut to its share (where 240, fix 400 characters; what 1,600, which only a message listing several of our own
        findings comes near): an offending value is never printed whole. Credentials in any URL in it are hidden
        (:func:`china_site.redact.redact_urls`), before the cut so that a cut never leaves half a secret."""
        from china_site.redact import redact_urls
        from china_site.safeio import clip, printable

        def part(text: str, limit: int) -> str:
            return printable(clip(redact_urls(" ".join(text.split("\n"))), limit))

        parts = []
        if self.where:
            parts.append(f"{part(self.where, 240)}: ")
        parts.append(part(self.what.rstrip("."), 1600))
        if self.fix:
            parts.append(f". Fix: {part(self.fix.rstrip('.'), 400)}")
        return "".join(parts) + "."


class NumberError(ChinaSiteError, ValueError):
    """A filing, permit or PSB number does not have any known shape."""


class RegistryError(ChinaSiteError):
    """The filing registry cannot be read, parsed or validated (names source, entry and field)."""

    def __init__(
        self,
        what: str,
        *,
        source: str,
        entry: str | None = None,
        field: str | None = None,
        fix: str | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.source = source
        self.entry = entry
        self.field = field
        where = source
        if entry:
            where += f", {entry}"
        if field:
            where += f", field '{field}'"
        super().__init__(what, where=where, fix=fix)
        # Every problem found, one line each (the message names only the first); at least this error's own line.
        self.problems: list[str] = list(problems) if problems else [self.line()]


class InputError(ChinaSiteError):
    """Bad command-line input, artifact or configuration."""
