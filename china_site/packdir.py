"""``china-site pack-dir``: a folder that is a working CrossGuard pack for ``pulumi preview --policy-pack``.

How the Pulumi CLI (v3.274) runs a Python pack: it reads ``PulumiPolicy.yaml`` in the folder, asks the Python
language host to ``RunPlugin`` it with ``runtime.options``, and Pulumi's host runs ``<virtualenv>/bin/python -u -m
pulumi.policy <engine address> <folder>`` **in the pack's folder** (``pulumi.policy`` runs the folder's
``__main__.py``); with ``toolchain: pip`` and no ``virtualenv`` it assumes ``venv``. The pack finds the Pulumi project
it judges (where a relative ``china-site:filings`` starts) through ``china_site.project_dir``.
For a pack downloaded from the Pulumi Cloud the CLI creates that virtualenv itself and installs the pack's
``requirements.txt`` into it.

So the one ``PulumiPolicy.yaml`` says ``virtualenv: venv`` (relative to the pack folder) and each way of running
the pack provides that ``venv``:

* the checkout: ``make install`` links ``policies/venv`` → ``../.venv``;
* an installed package: this module copies the shipped pack folder (``china_site/pack`` in the wheel) into the
  user's cache and makes its ``venv`` the running interpreter's environment (a link to it when it is a virtualenv,
  else a virtualenv on top of it with its site-packages);
* ``pulumi policy publish``: the folder alone; the CLI installs ``requirements.txt`` (``china-site``) into ``venv``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from china_site import __version__
from china_site.errors import InputError

PACK_FILES = ("PulumiPolicy.yaml", "__main__.py", "requirements.txt", "README.md")


def pack_source() -> Path:
    """The pack folder this installation ships: ``china_site/pack`` (wheel), else the checkout's ``policies/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "pack", here.parent / "policies"):
        if (candidate / "PulumiPolicy.yaml").is_file() and (candidate / "__main__.py").is_file():
            return candidate
    raise InputError(
        "this china-site installation has no policy pack folder",
        where=str(here),
        fix="reinstall china-site from its wheel (pip install --force-reinstall china-site)",
    )


def _environment() -> Path:
    return Path(sys.prefix).resolve()


def _python_in(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def default_pack_dir(cache_dir: Path | None = None) -> Path:
    from china_site.filings import default_cache_dir

    base = cache_dir if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(str(_environment()).encode()).hexdigest()[:12]
    return base / f"pack-{__version__}-{digest}"


MARKER = ".china-site-pack"  # written into every pack folder we make: the proof that the folder is ours
LOCK = ".china-site-pack.lock"  # serialises concurrent runs writing the same folder
_TEMP_PREFIX = ".china-site-tmp-"
# What an unmarked pack folder made by an older china-site (in our own cache) may hold.
_LEGACY_NAMES = frozenset({*PACK_FILES, "venv"})


def materialise(target: Path | None = None, *, force: bool = False) -> Path:
    """Write (or refresh) a working pack folder for this interpreter's environment and return it.

    ``target`` (``pack-dir --dir``) must be missing, empty or a pack folder we made (it holds :data:`MARKER`);
    anything else is refused (one line, exit 2) unless ``force``: the user's own ``__main__.py``, ``README.md`` or
    ``venv/`` are never written over. Concurrent runs on the same folder take turns (a lock file) and each file is
    replaced atomically from a temporary file of its own."""
    source = pack_source()
    chosen = target is not None
    target = (target or default_pack_dir()).expanduser().resolve()
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.mkdir(mode=0o700, exist_ok=True)
        _refuse_shared([target] if chosen else [target.parent, target])
        if not force:
            _refuse_foreign(target, legacy_ok=not chosen)
        with _locked(target):
            if not force:
                _refuse_foreign(target, legacy_ok=not chosen)  # again: what another run did while we waited
            _write_atomic(target / MARKER, f"china-site policy pack {__version__}\n".encode())
            for name in PACK_FILES:
                src = source / name
                if not src.is_file():
                    continue
                dst = target / name
                data = src.read_bytes()
                if dst.is_symlink() or not dst.is_file() or dst.read_bytes() != data:
                    _write_atomic(dst, data)
            _link_environment(target / "venv")
    except OSError as err:
        raise InputError(
            f"cannot write the policy pack folder ({err.strerror or err})",
            where=str(target),
            fix="pass --dir a new or empty folder you can write"
            if chosen
            else "set CHINA_SITE_CACHE_DIR (or XDG_CACHE_HOME) to a writable folder",
        ) from None
    return target


def _refuse_foreign(target: Path, *, legacy_ok: bool) -> None:
    """Refuse a folder holding anything but a previous pack of ours (or nothing)."""
    names = {entry.name for entry in os.scandir(target)} - {LOCK}
    names = {n for n in names if not n.startswith(_TEMP_PREFIX)}
    if not names or MARKER in names or (legacy_ok and names <= _LEGACY_NAMES):
        return
    from china_site.safeio import clip, printable

    shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    raise InputError(
        f"the folder already holds files that are not a china-site policy pack ({printable(clip(shown, 120))}); "
        "writing the pack there would overwrite or delete them / 该目录中已有不属于 china-site 策略包的文件，"
        "写入会覆盖或删除它们",
        where=str(target),
        fix="choose an empty or new folder for --dir, or pass --force to write the pack there anyway / "
        "请为 --dir 选择空目录或新目录，或加 --force 强制写入",
    )


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder/.china-site-pack.lock`` (POSIX ``flock``; elsewhere only the atomic renames
    protect concurrent runs)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_atomic(path: Path, data: bytes) -> None:
    """``data`` into ``path`` through a temporary file of this run's own, renamed over it (never half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{_TEMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _refuse_shared(folders: list[Path]) -> None:
    """The pack folder holds code ``pulumi`` runs at every preview: refuse it (and, by default, the cache folder
    holding it) when another user, or anyone but its owner, could write there and plant code."""
    for folder in folders:
        st = folder.stat()
        problems = []
        if st.st_mode & 0o022:
            problems.append(f"it is writable by {'others' if st.st_mode & 0o002 else 'its group'}")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            problems.append("it belongs to another user")
        if problems:
            raise InputError(
                f"the policy pack folder would run code from a folder others can change ({' and '.join(problems)})",
                where=str(folder),
                fix=f"run `chmod go-w {folder}`, or set CHINA_SITE_CACHE_DIR to a private folder",
            )


def _link_environment(venv: Path) -> None:
    """``venv`` → this interpreter's environment: a link when it is a virtualenv (has ``bin/python``), else a
    virtualenv with system site-packages made by this interpreter."""
    env = _environment()
    if sys.prefix != sys.base_prefix and _python_in(env).exists():
        if venv.is_symlink() and venv.resolve() == env:
            return
        if venv.is_dir() and not venv.is_symlink():
            shutil.rmtree(venv)
        # A link of this run's own name, renamed over ``venv``: a concurrent run never finds it half made.
        tmp = venv.with_name(f"{_TEMP_PREFIX}venv.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.symlink_to(env, target_is_directory=True)
        try:
            os.replace(tmp, venv)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return
    if venv.is_symlink():
        venv.unlink()
    if not _python_in(venv).exists():
        import venv as venv_module

        venv_module.create(venv, system_site_packages=True, with_pip=False, symlinks=os.name != "nt")
