"""Barriers: after a refused step nothing runs that lets the guest run or
builds the machine.  The observable: SeaBIOS writes to a debugcon chardev
file as soon as the guest runs, so the file stays empty unless `cont` ran."""

from __future__ import annotations

import time

import pytest

from conftest import Monitor, script, wait_exit, wait_gone

RUNS = 10


@pytest.mark.parametrize("refused", [
    # a hot plug into an occupied slot, then cont
    ["x-exit-preconfig", "device_add driver=virtio-rng-pci addr=0x5"],
    # a qom-set QEMU refuses (pipeline-safe itself; on a path --check does
    # not type), then cont
    ["x-exit-preconfig", "qom-set path=/machine/peripheral-anon property=no-such-property "
                         "value=1"],
    # a backend refused in preconfig (as QEMU creates it: no check can
    # foresee it), then x-exit-preconfig and cont
    ["-object memory-backend-file,id=m0,size=1M,mem-path=/nonexistent/dir/m0"],
], ids=["device_add", "qom-set", "object-add"])
def test_nothing_runs_the_guest_after_a_refused_step(refused, iq, tmp_path, name):
    log = tmp_path / "debugcon.log"
    vm = script(tmp_path / "vm.qcmd", "-machine pc", f"-name guest={name}", "-m 128M",
                f"-chardev file,id=dbg,path={log}",
                "-device isa-debugcon,iobase=0x402,chardev=dbg",
                "-device virtio-rng-pci,addr=0x5",
                "qom-set path=/machine property=dump-guest-core value=true",
                *refused)                   # and then, implicitly, what remains: cont
    for run in range(RUNS):
        r = iq(vm)
        assert r.returncode == 1 and "error: QEMU refused" in r.stderr, r.stderr
        assert wait_gone(name)
        assert log.read_bytes() == b"", f"run {run}: the guest ran after a refused step"


def test_the_same_script_without_the_refusal_does_run_the_guest(iq_bg, tmp_path, sockdir, name):
    # the observable works: with nothing refused, SeaBIOS writes the file
    log, sock = tmp_path / "debugcon.log", sockdir / "m.sock"
    vm = script(tmp_path / "vm.qcmd", "-machine pc", f"-name guest={name}", "-m 128M",
                f"-chardev file,id=dbg,path={log}",
                "-device isa-debugcon,iobase=0x402,chardev=dbg",
                "-device virtio-rng-pci,addr=0x5", f"-qmp unix:{sock},server=on,wait=off",
                "x-exit-preconfig", "device_add driver=virtio-rng-pci addr=0x6")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        assert mon("query-status")["status"] == "running"
        deadline = time.monotonic() + 20
        while b"SeaBIOS" not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"SeaBIOS" in log.read_bytes()
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
