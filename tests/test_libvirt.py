"""libvirt drives inorder-qemu as its <emulator>: a real libvirtd (started by
tests/libvirt/libvirtd, no systemd), real QEMU, a Linux guest that boots."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import QEMU, is_qemu

sys.path.insert(0, str(Path(__file__).parent / "libvirt"))
import domain as lv  # noqa: E402


@pytest.fixture(scope="module")
def libvirt():
    lv.guest()
    lv.libvirtd("start")
    yield
    lv.libvirtd("stop")


@pytest.fixture
def work(libvirt):
    d = Path(tempfile.mkdtemp(prefix="iqlv-", dir="/tmp"))
    yield d
    for name in lv.virsh("list", "--name", check=False).stdout.split():
        if name.startswith("iqlv-"):
            lv.virsh("destroy", name, check=False)
    shutil.rmtree(d, ignore_errors=True)


def domain_name() -> str:
    return "iqlv-" + uuid.uuid4().hex[:10]


def log_of(name: str) -> str:
    return (lv.DOMAIN_LOGS / f"{name}.log").read_text(errors="replace")


def run_domain(work: Path, emulator: str, commandline=()) -> tuple[str, Path]:
    name = domain_name()
    serial = work / f"{name}.serial"
    disk = lv.qcow2(work / f"{name}.qcow2")
    lv.create(lv.xml(name, emulator, disk, serial, list(commandline)), work)
    return name, serial


def destroy_leaves_nothing(name: str, emulator_dir: Path | None = None) -> None:
    pid = lv.pid_of(name)
    lv.virsh("destroy", name)
    assert lv.wait_for(lambda: not lv.processes_mentioning(f"guest={name},"), 10)
    assert not os.path.exists(f"/proc/{pid}")
    if emulator_dir is not None:
        assert lv.processes_mentioning(str(emulator_dir)) == []


def booted(serial: Path) -> bool:
    return lv.wait_for(lambda: serial.exists() and lv.MARKER in serial.read_text(errors="replace"),
                       90, 0.5)


def test_domain_boots_through_inorder_qemu_as_on_qemu(work):
    emulator = lv.drop_in(work / "bin")
    name, serial = run_domain(work, str(emulator))
    # the pid libvirt started and tracks is QEMU itself, not a wrapper
    pid = lv.pid_of(name)
    assert is_qemu(pid)
    assert lv.processes_mentioning(f"guest={name},") == [pid]
    assert lv.virsh("domstate", name).stdout.strip() == "running"
    assert booted(serial), serial.read_text(errors="replace") if serial.exists() else "no serial"
    # the guest has programmed its BARs: compare once both have booted
    ours = lv.virsh("qemu-monitor-command", "--pretty", name, '{"execute":"query-pci"}').stdout
    # the command line was checked in order: nothing to warn about here
    assert not re.search(r"argv\[\d+\]: (warning|error):", log_of(name)), log_of(name)
    destroy_leaves_nothing(name, work / "bin")

    plain, plain_serial = run_domain(work, QEMU)
    assert booted(plain_serial)
    theirs = lv.virsh("qemu-monitor-command", "--pretty", plain, '{"execute":"query-pci"}').stdout
    destroy_leaves_nothing(plain)
    assert json.loads(ours)["return"] == json.loads(theirs)["return"]
    devices = json.loads(ours)["return"][0]["devices"]
    assert len(devices) >= 8          # root ports, virtio disk and NIC behind them, ...


def test_the_next_start_of_a_domain_execs_from_its_record(work):
    """libvirt gives each start a new numbered folder and a transient domain
    a new UUID: the record of the first start serves the next, with the next
    start's values (inorder/plan/volatile.py)."""
    emulator = lv.drop_in(work / "bin")
    name = domain_name()
    serial = work / f"{name}.serial"
    text = lv.xml(name, str(emulator), lv.qcow2(work / f"{name}.qcow2"), serial,
                  env={"INORDER_TIMINGS": "1"})
    seen = []
    for _ in range(2):
        serial.unlink(missing_ok=True)
        lv.create(text, work)
        pid = lv.pid_of(name)
        assert is_qemu(pid)
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        folder = re.search(r"/domain-(\d+)-", argv).group(1)
        uuid_ = lv.virsh("domuuid", name).stdout.strip()
        # QEMU read this start's master key and got this start's UUID
        assert booted(serial)
        assert f"\0-uuid\0{uuid_}\0" in argv
        seen.append((folder, uuid_))
        destroy_leaves_nothing(name, work / "bin")
    assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1]
    marks = [json.loads(m) for m in re.findall(r"inorder-timings (\{.*\})", log_of(name))]
    assert len(marks) == 2, log_of(name)
    assert "plan" in marks[0] and "record" not in marks[0]        # the whole way
    assert "record" in marks[1] and "plan" not in marks[1]        # the warm start


def test_capability_probe_answers_as_qemu(work):
    emulator = lv.drop_in(work / "fresh")        # a path libvirt has never probed
    ours = lv.virsh("domcapabilities", "--emulatorbin", str(emulator), "--arch", "x86_64",
                    "--virttype", "qemu").stdout
    theirs = lv.virsh("domcapabilities", "--emulatorbin", QEMU, "--arch", "x86_64",
                      "--virttype", "qemu").stdout
    assert f"<path>{emulator}</path>" in ours
    assert ours.replace(str(emulator), QEMU) == theirs
    assert re.search(r"<machine>pc-[\w.-]+</machine>", ours)          # a real answer
    # the probe's QEMU (-daemonize) is gone again
    assert lv.processes_mentioning(str(work / "fresh")) == []


PASSTHROUGH = ["-device", "virtio-rng-pci,rng=rngfwd,id=rngdev",
               "-object", "rng-random,id=rngfwd,filename=/dev/urandom"]


def test_passthrough_forward_reference_runs_with_a_warning(work):
    emulator = lv.drop_in(work / "bin")
    name, _ = run_domain(work, str(emulator), PASSTHROUGH)
    log = log_of(name)
    assert re.search(r"argv\[\d+\]: warning: object 'rngfwd' is used before it is defined "
                     r"\(QEMU resolves it at board init\)", log), log
    got = lv.virsh("qemu-monitor-command", name,
                   '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/rngdev",'
                   '"property":"type"}}').stdout
    assert json.loads(got)["return"] == "virtio-rng-pci"
    destroy_leaves_nothing(name, work / "bin")
    # QEMU itself creates key=value -device options before JSON ones: the
    # passthrough device takes the slot of libvirt's first root port
    r = lv.create(lv.xml(domain_name(), QEMU, lv.qcow2(work / "p.qcow2"), work / "p.serial",
                         PASSTHROUGH), work, check=False)
    assert r.returncode != 0 and "in use by virtio-rng-pci,id=rngdev" in r.stderr, r.stderr


def test_passthrough_reference_never_defined_fails_with_a_located_error(work):
    emulator = lv.drop_in(work / "bin")
    name = domain_name()
    disk = lv.qcow2(work / "d.qcow2")
    r = lv.create(lv.xml(name, str(emulator), disk, work / "s.serial",
                         ["-device", "virtio-rng-pci,rng=nowhere,id=rngdev"]), work, check=False)
    assert r.returncode != 0
    log = log_of(name)
    m = re.search(r"argv\[(\d+)\]: error: object 'nowhere' is used before it is defined\n"
                  r" *\d+ \| -device virtio-rng-pci,rng=nowhere,id=rngdev\n *\| +\^~+", log)
    assert m, log
    assert "object 'nowhere'" in r.stderr                 # virsh shows the log's last words
    assert lv.processes_mentioning(f"guest={name},") == []
    assert lv.processes_mentioning(str(work / "bin")) == []


def test_libvirt_start_benchmark_runs(work):
    bench = Path(__file__).parent.parent / "bench" / "libvirt_start.py"
    r = subprocess.run([sys.executable, str(bench), "--runs", "1"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert re.search(r"virsh create → running \| [\d.]+ s \| [\d.]+ s \| [\d.]+x", r.stdout), r.stdout
