"""The benchmark command runs end to end (``python -m bench --quick``) and writes every figure with its floor, our
time and the ratio. No timing is asserted: the figures are for people, not for CI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _figures() -> list[str]:
    sys.path.insert(0, str(ROOT))
    try:
        from bench import FIGURES
    finally:
        sys.path.remove(str(ROOT))
    return list(FIGURES)


def test_quick_run_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["_meta"]["quick"] is True
    for name in _figures():
        figure = results[name]
        assert "error" not in figure, (name, figure.get("error"))
        for check in [figure, *figure["checks"]]:
            for key in ("floor", "ours", "ratio", "goal", "unit", "n", "met"):
                assert key in check, (name, key)
            assert isinstance(check["floor"], int | float) and check["floor"] > 0, (name, check["floor"])
            assert isinstance(check["ours"], int | float) and check["ours"] > 0, (name, check["ours"])
            assert math.isfinite(check["ratio"]) and check["ratio"] > 0, (name, check["ratio"])
    # The table names every figure.
    for name in _figures():
        assert name in proc.stdout


def test_only_and_unknown_names(tmp_path: Path) -> None:
    output = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "registry", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert set(results) == {"_meta", "registry"}

    bad = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "no-such-figure"], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "no-such-figure" in bad.stderr
