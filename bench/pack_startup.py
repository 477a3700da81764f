"""Figure 2 — pack start-up: spawn → port line on stdout → gRPC channel ready, the china-site pack vs the no-op pack.

Both run ``python -m pulumi.policy 127.0.0.1:0 .`` with the same interpreter and environment, alternately; one
unmeasured start of each first (page cache, ``.pyc``), then the median of N starts each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench._common import POLICIES_DIR, TRIVIAL_PACK_DIR, Sizes, check, figure, median

NAME = "pack_startup"
TITLE = "Pack start-up (spawn → port → channel ready)"
GOAL = 1.3


def _start(pack_dir: Path) -> tuple[float, float]:
    from bench._pack import Pack

    pack = Pack(pack_dir)
    try:
        return pack.start_times.port_line, pack.start_times.channel_ready
    finally:
        pack.stop()


def run(sz: Sizes, work: Path) -> dict[str, Any]:
    _start(TRIVIAL_PACK_DIR)
    _start(POLICIES_DIR)
    floor_ready: list[float] = []
    our_ready: list[float] = []
    floor_port: list[float] = []
    our_port: list[float] = []
    for i in range(sz.startups):
        order = [(TRIVIAL_PACK_DIR, floor_port, floor_ready), (POLICIES_DIR, our_port, our_ready)]
        if i % 2:
            order.reverse()
        for pack_dir, ports, readies in order:
            port, ready = _start(pack_dir)
            ports.append(port)
            readies.append(ready)
    primary = check(
        "spawn → channel ready, median",
        floor=median(floor_ready),
        ours=median(our_ready),
        unit="s",
        goal=GOAL,
        n=sz.startups,
    )
    return figure(
        primary,
        port_line_floor_s=median(floor_port),
        port_line_ours_s=median(our_port),
        min_floor_s=min(floor_ready),
        min_ours_s=min(our_ready),
        extra_import_s=median(our_ready) - median(floor_ready),
    )
