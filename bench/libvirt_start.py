#!/usr/bin/env python3
"""libvirt starting a domain through inorder-qemu, next to plain QEMU.

    .venv/bin/python bench/libvirt_start.py             # 10 rounds (about 15 s)
    .venv/bin/python bench/libvirt_start.py --runs 1    # the test tier's smoke run

Needs root: starts Debian's libvirtd with tests/libvirt/libvirtd (left
running) and builds the test guest.  Each round runs `virsh create` of the
same q35 domain (direct kernel boot, virtio disk, user NIC, serial file) once
with <emulator> plain qemu-system-x86_64 and once with inorder-qemu's
drop-in, in alternating order, and `virsh destroy` after each; virsh create
returns when libvirt has sent `cont` and the domain is running.  Prints a
Markdown row: medians, and the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "libvirt"))
import domain as lv  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    lv.guest()
    lv.libvirtd("start")
    with tempfile.TemporaryDirectory(prefix="iqlvb-", dir="/tmp") as d:
        work = Path(d)
        emulators = {"qemu": qemu, "inorder": str(lv.drop_in(work / "bin"))}
        # the first start of an emulator path pays libvirt's capability probe,
        # and inorder-qemu's first start its profile probe: not measured
        times: dict[str, list[float]] = {k: [] for k in emulators}
        for round_ in range(args.runs + 1):
            order = list(emulators) if round_ % 2 else list(reversed(emulators))
            for kind in order:
                name = f"iqlvb-{kind}"
                disk = work / f"{kind}.qcow2"
                if not disk.exists():
                    lv.qcow2(disk)
                text = lv.xml(name, emulators[kind], disk, work / f"{kind}.serial")
                start = time.perf_counter()
                lv.create(text, work)
                took = time.perf_counter() - start
                lv.virsh("destroy", name)
                if round_:
                    times[kind].append(took)
    ours, theirs = statistics.median(times["inorder"]), statistics.median(times["qemu"])
    print("| measure | inorder-qemu | plain QEMU | ratio |")
    print("|---|---|---|---|")
    print(f"| virsh create → running | {ours:.3f} s | {theirs:.3f} s | {ours / theirs:.2f}x |")
    print(f"(medians of {args.runs}; inorder-qemu {min(times['inorder']):.3f}–"
          f"{max(times['inorder']):.3f} s, plain QEMU {min(times['qemu']):.3f}–"
          f"{max(times['qemu']):.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
