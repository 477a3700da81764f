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

import hashlib
import os
import shutil
import sys
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


def materialise(target: Path | None = None) -> Path:
    """Write (or refresh) a working pack folder for this interpreter's environment and return it."""
    source = pack_source()
    chosen = target is not None
    target = (target or default_pack_dir()).expanduser().resolve()
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target.mkdir(mode=0o700, exist_ok=True)
        _refuse_shared([target] if chosen else [target.parent, target])
        for name in PACK_FILES:
            src = source / name
            if not src.is_file():
                continue
            dst = target / name
            data = src.read_bytes()
            if not dst.is_file() or dst.read_bytes() != data:
                tmp = dst.with_name(f".{name}.tmp")
                tmp.write_bytes(data)
                tmp.replace(dst)
        _link_environment(target / "venv")
    except OSError as err:
        raise InputError(
            f"cannot write the policy pack folder ({err.strerror or err})",
            where=str(target),
            fix="set CHINA_SITE_CACHE_DIR (or XDG_CACHE_HOME) to a writable folder",
        ) from None
    return target


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
        if venv.is_symlink() or venv.is_file():
            venv.unlink()
        elif venv.is_dir():
            shutil.rmtree(venv)
        venv.symlink_to(env, target_is_directory=True)
        return
    if venv.is_symlink():
        venv.unlink()
    if not _python_in(venv).exists():
        import venv as venv_module

        venv_module.create(venv, system_site_packages=True, with_pip=False, symlinks=os.name != "nt")
