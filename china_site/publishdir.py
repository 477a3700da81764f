"""``china-site publish-dir DIR``: a policy pack folder to ``pulumi policy publish`` that installs without PyPI.

china-site is not on PyPI (and the name there is not ours), so a published pack must not ask an index for it. The
folder holds the pack's files, china-site's own wheel under ``wheels/`` and a ``requirements.txt`` naming that file
by path: the Pulumi CLI runs ``pip install -r requirements.txt`` in the pack's folder, so pip installs the wheel it
carries and takes only its dependencies (the base install: pydantic, PyYAML, publicsuffixlist, idna, pulumi,
pulumi-policy) from the main index — PyPI, or your own set as ``PIP_INDEX_URL`` (never ``--extra-index-url``).

The wheel is rebuilt from this installation (an editable checkout included): the files of ``china_site`` with the
pack folder as ``china_site/pack``, and the installed metadata; the same installation gives the same bytes.
``.gitignore`` keeps what ``pulumi policy publish`` must not upload (the ``venv`` the CLI creates, caches) out of the
archive: the CLI's archiver honours it (sdk/go/common/util/archive).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from china_site import __version__
from china_site.errors import InputError
from china_site.packdir import PACK_FILES, pack_source

WHEELS = "wheels"
_DIST = "china_site"
_EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed member times: the same installation gives the same wheel bytes
_SKIP_PARTS = frozenset({"__pycache__"})


def wheel_name() -> str:
    return f"{_DIST}-{__version__}-py3-none-any.whl"


def _package_files() -> dict[str, bytes]:
    """Archive name → bytes of every file of the installed ``china_site`` package, the pack as ``china_site/pack``."""
    import china_site

    root = Path(china_site.__file__).resolve().parent
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or _SKIP_PARTS & set(rel.parts) or path.suffix in (".pyc", ".pyo"):
            continue
        if rel.parts[0] == "pack":
            continue  # taken from the pack folder below (in a checkout it is policies/)
        files[f"{_DIST}/{rel.as_posix()}"] = path.read_bytes()
    pack = pack_source()
    for name in (*PACK_FILES, "__init__.py"):
        if (pack / name).is_file():
            files[f"{_DIST}/pack/{name}"] = (pack / name).read_bytes()
    return files


def _dist_info() -> dict[str, bytes]:
    from importlib import metadata

    try:
        dist = metadata.distribution("china-site")
    except metadata.PackageNotFoundError:
        raise InputError(
            "china-site is not installed as a distribution here",
            where="china-site installation",
            fix="install it (pip install -e . in a checkout, or its wheel) and run the command again",
        ) from None
    info = f"{_DIST}-{__version__}.dist-info"
    out = {
        f"{info}/METADATA": (dist.read_text("METADATA") or "").encode("utf-8"),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: china-site publish-dir\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
        f"{info}/top_level.txt": b"china_site\n",
    }
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        out[f"{info}/entry_points.txt"] = entry_points.encode("utf-8")
    return out


def build_wheel() -> bytes:
    """china-site's wheel, rebuilt from this installation."""
    members = {**_package_files(), **_dist_info()}
    record_name = f"{_DIST}-{__version__}.dist-info/RECORD"
    lines = []
    for name, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(data)}")
    lines.append(f"{record_name},,")
    members[record_name] = ("\n".join(lines) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def requirements_text(wheel: str) -> str:
    return (
        "# china-site's own wheel, shipped in this pack: pip installs this file and never asks an index for\n"
        "# china-site (not on PyPI). Its dependencies come from pip's main index (PyPI, or PIP_INDEX_URL).\n"
        f"./{WHEELS}/{wheel}\n"
    )


# What a folder this command wrote may hold: its files, and what running the pack there adds (left untouched).
_OURS = frozenset({*PACK_FILES, ".gitignore", WHEELS, "venv", "__pycache__"})


def write_publish_dir(target: Path) -> Path:
    """Write the folder to publish (new or one this command wrote before); never over anything else."""
    target = target.expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise InputError("is not a folder", where=str(target), fix="name a new folder for the pack")
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir() if p.name not in _OURS)
        if foreign:
            raise InputError(
                f"the folder holds files this command did not write ({', '.join(foreign[:3])})",
                where=str(target),
                fix="name a new or empty folder for the pack",
            )
    source = pack_source()
    wheel = build_wheel()
    try:
        (target / WHEELS).mkdir(parents=True, exist_ok=True)
        for old in (target / WHEELS).glob("*.whl"):
            if old.name.startswith(f"{_DIST}-"):
                old.unlink()
        (target / WHEELS / wheel_name()).write_bytes(wheel)
        for name in PACK_FILES:  # the .gitignore among them
            if name == "requirements.txt":
                continue
            if (source / name).is_file():
                (target / name).write_bytes((source / name).read_bytes())
        (target / "requirements.txt").write_text(requirements_text(wheel_name()), encoding="utf-8")
    except OSError as err:
        raise InputError(
            f"cannot write the pack folder ({err.strerror or err})", where=str(target), fix="name a writable folder"
        ) from None
    return target
