"""Fast regression tests for what the real engine revealed about the policy pack (no Pulumi CLI needed).

Each names the e2e test that found it. They run in ``make test``.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pack_port_line_reaches_a_pipe_without_unbuffered_python() -> None:
    """Found by test_e2e_engine.py::test_policy_pack_runs_through_the_language_host: the engine starts a Python pack
    through the language host's RunPlugin as ``python <pack dir> <engine>`` with stdout a pipe (no ``-u``, no
    PYTHONUNBUFFERED); pulumi_policy writes the port unflushed, so the engine waited forever for it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PULUMI_CONFIG")}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "policies"), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no port line on stdout within 60 s while the pack keeps running"
        line = process.stdout.readline()
        assert line.strip().isdigit(), line
        assert process.poll() is None  # still serving
    finally:
        process.kill()
        process.wait(timeout=10)
