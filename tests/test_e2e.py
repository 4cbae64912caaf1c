"""The end-to-end scenarios of the product, on real QEMU."""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import Monitor, qemu_pids, script, wait_exit, wait_gone

DEVICES = ["rp1", "rp2", "nic0", "disk0"]


def q35_lines(qcow2, sock, name, *, swap_ports=False):
    ports = ["-device pcie-root-port,id=rp1,chassis=1",
             "-device pcie-root-port,id=rp2,chassis=2"]
    if swap_ports:
        ports.reverse()
    return [
        "-machine q35",
        f"-name guest={name}",
        "-m 1G",
        "-smp 2",
        "-object memory-backend-ram,id=m0,size=512M",
        "-object memory-backend-ram,id=m1,size=512M",
        "-numa node,nodeid=0,memdev=m0,cpus=0",
        "-numa node,nodeid=1,memdev=m1,cpus=1",
        *ports,
        "-netdev user,id=n0",
        "-device virtio-net-pci,netdev=n0,bus=rp1,id=nic0",
        f"-blockdev driver=file,filename={qcow2},node-name=f0",
        "-blockdev driver=qcow2,file=f0,node-name=d0",
        "-device virtio-blk-pci,drive=d0,id=disk0",
        f"-qmp unix:{sock},server=on,wait=off",
    ]


def layout(mon: Monitor) -> dict:
    """Each device: (parent bus, PCI devfn, hotplugged)."""
    out = {}
    for dev in DEVICES:
        path = f"/machine/peripheral/{dev}"
        out[dev] = (mon("qom-get", path=path, property="parent_bus"),
                    mon("qom-get", path=path, property="addr"),
                    mon("qom-get", path=path, property="hotplugged"))
    return out


def run_and_inspect(iq_bg, args, sock, name):
    proc = iq_bg(*args)
    mon = Monitor(sock)
    try:
        status = mon("query-status")["status"]
        devices = layout(mon)
        pci = mon("query-pci")
        numa = mon.hmp("info numa")
    finally:
        mon.quit()
    rc, out, err = wait_exit(proc)
    assert rc == 0, err
    assert wait_gone(name)
    return status, devices, pci, numa


def test_q35_script_reaches_running_in_script_order(iq_bg, tmp_path, qcow2, sockdir, name):
    sock = sockdir / "qmp.sock"
    vm = script(tmp_path / "vm.qcmd", *q35_lines(qcow2, sock, name))
    status, devices, pci, numa = run_and_inspect(iq_bg, [vm], sock, name)
    assert status == "running"
    pcie0 = "/machine/q35/pcie.0"
    # cold plugged, at the slots their order implies (devfn = slot * 8)
    assert devices == {
        "rp1": (pcie0, 1 * 8, False),
        "rp2": (pcie0, 2 * 8, False),
        "nic0": ("/machine/peripheral/rp1/rp1", 0, False),
        "disk0": (pcie0, 3 * 8, False),
    }
    assert "2 nodes" in numa and "node 0 cpus: 0" in numa and "node 1 cpus: 1" in numa
    assert not sock.exists(), "the monitor socket outlives QEMU"
    assert os.listdir(sockdir) == []


def test_swapping_two_device_lines_swaps_their_addresses(iq_bg, tmp_path, qcow2, sockdir, name):
    sock = sockdir / "qmp.sock"
    vm = script(tmp_path / "vm.qcmd", *q35_lines(qcow2, sock, name, swap_ports=True))
    _, devices, _, _ = run_and_inspect(iq_bg, [vm], sock, name)
    assert devices["rp2"][1] == 1 * 8
    assert devices["rp1"][1] == 2 * 8


def test_backends_on_argv_build_the_same_vm_as_the_feed(iq, iq_bg, tmp_path, qcow2, sockdir,
                                                        name, launches):
    # Nothing in this script needs the feed: by default its objects, netdev,
    # block nodes and -numa ride on QEMU's argv, and QEMU builds the machine
    # itself; --feed sends them over QMP in preconfig.  The same VM.
    sock = sockdir / "qmp.sock"
    lines = ["-accel tcg", "-display none", "-nodefaults", "-S", *q35_lines(qcow2, sock, name)]
    vm = script(tmp_path / "vm.qcmd", *lines, common=False)
    plan = json.loads(iq("--dry-run", "--json", vm).stdout)
    assert [s for s in plan["steps"] if s["channel"] == "qmp"] == [] and not plan["preconfig"]
    on_argv = run_and_inspect(iq_bg, [vm], sock, name)
    fed = run_and_inspect(iq_bg, ["--feed", vm], sock, name)
    assert on_argv == fed
    assert "2 nodes" in on_argv[3] and on_argv[1]["nic0"][0] == "/machine/peripheral/rp1/rp1"
    first, second = launches.vms()
    assert "--preconfig" not in first and "--preconfig" in second


def test_argv_mode_builds_the_same_vm_as_the_file(iq_bg, tmp_path, qcow2, sockdir, name):
    sock = sockdir / "qmp.sock"
    # -S: the firmware has not run, so query-pci is the same at any moment
    lines = ["-accel tcg", "-display none", "-nodefaults", "-S", *q35_lines(qcow2, sock, name)]
    vm = script(tmp_path / "vm.qcmd", *lines, common=False)
    _, devices_file, pci_file, _ = run_and_inspect(iq_bg, [vm], sock, name)
    argv = [w for line in lines for w in line.split(" ", 1)]
    _, devices_argv, pci_argv, _ = run_and_inspect(iq_bg, ["--", *argv], sock, name)
    assert pci_argv == pci_file
    assert [d["qdev_id"] for d in pci_file[0]["devices"]][:4] == ["", "rp1", "rp2", "disk0"]
    assert devices_argv == devices_file


def test_device_after_cont_is_hotplugged_on_pc(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "qmp.sock"
    vm = script(tmp_path / "vm.qcmd", "-machine pc", f"-name guest={name}", "-m 256M",
                f"-qmp unix:{sock},server=on,wait=off",
                "cont",
                "-device virtio-rng-pci,id=rng0")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        assert mon("query-status")["status"] == "running"
        assert mon("qom-get", path="/machine/peripheral/rng0", property="hotplugged") is True
        ids = [d["qdev_id"] for d in mon("query-pci")[0]["devices"]]
        assert "rng0" in ids
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


def test_device_after_cont_on_q35_pcie_fails_located(iq, tmp_path, name, launches):
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 256M",
                "cont",
                "-device virtio-rng-pci,id=rng0")
    r = iq(vm)
    assert r.returncode == 1
    assert "vm.qcmd:8:1: error: QEMU refused 'device_add': Bus 'pcie.0' does not support hotplugging" in r.stderr
    assert "vm.qcmd:7:1: note: the machine was built here, by 'cont'" in r.stderr
    assert "Traceback" not in r.stderr
    assert len(launches.vms()) == 1
    assert wait_gone(name)


@pytest.mark.parametrize("flags", [(), ("--feed",)])
def test_a_bad_value_is_caught_before_anything_starts(flags, iq, tmp_path, sockdir, name,
                                                      launches):
    said = "size=lots: expected a number (or a size: 64M, 1G)"
    sock = sockdir / "qmp.sock"
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 256M",
                f"-qmp unix:{sock},server=on,wait=off",
                "-object memory-backend-ram,id=m0,size=lots")
    r = iq(*flags, vm)
    assert r.returncode == 1
    assert f"vm.qcmd:8:39: error: {said}" in r.stderr
    assert "   |" in r.stderr and "^~~~" in r.stderr
    assert launches.vms() == []
    assert not qemu_pids(name)
    assert os.listdir(sockdir) == []


def test_numa_size_mismatch_reports_qemu_exit_message(iq, tmp_path, sockdir, name):
    sock = sockdir / "qmp.sock"
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 1G",
                f"-qmp unix:{sock},server=on,wait=off",
                "-object memory-backend-ram,id=m0,size=256M",
                "-numa node,nodeid=0,memdev=m0",
                "x-exit-preconfig",
                "-device virtio-rng-pci")
    r = iq(vm)
    assert r.returncode == 1
    assert ("vm.qcmd:10:1: error: 'x-exit-preconfig' failed: QEMU exited (status 1): "
            "total memory for NUMA nodes (0x10000000) should equal RAM size (0x40000000)") in r.stderr
    assert not qemu_pids(name)
    assert os.listdir(sockdir) == []


def test_dry_run_shows_the_plan_that_runs(iq, iq_bg, tmp_path, qcow2, sockdir, name, launches):
    sock = sockdir / "qmp.sock"
    vm = script(tmp_path / "vm.qcmd", *q35_lines(qcow2, sock, name))
    r = iq("--dry-run", "--feed", vm)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    # argv first, then QMP steps by phase, each with location and channel
    assert text.index("# argv") < text.index("# QMP in preconfig") < text.index("# QMP in machine-ready")
    assert "vm.qcmd:8:1   qmp   object-add" in text
    assert "vm.qcmd:12:1  argv  -device pcie-root-port,id=rp1,chassis=1" in text
    assert "(cold plug: realized at machine-ready, in argv order)" in text
    assert "vm.qcmd:11:1  qmp   set-numa-node" in text
    assert "# the VM is left in phase running" in text
    assert launches.vms() == [], "--dry-run started QEMU"

    plan = json.loads(iq("--dry-run", "--json", "--feed", vm).stdout)
    qmp = [s["execute"] for s in plan["steps"] if s["channel"] == "qmp"]
    assert qmp == ["object-add", "object-add", "set-numa-node", "set-numa-node",
                   "netdev_add", "blockdev-add", "blockdev-add", "x-exit-preconfig", "cont"]
    assert plan["preconfig"] is True and plan["final-phase"] == "running"

    proc = iq_bg("-v", "--feed", vm)
    mon = Monitor(sock)
    mon.quit()
    rc, _, err = wait_exit(proc)
    assert rc == 0
    [launched] = launches.vms()
    # the launched argv is the planned one, plus -S --preconfig and the private
    # monitor; the user monitor's socket is handed over as a listening fd
    i = plan["argv"].index("-qmp")
    expected = plan["argv"][:i] + ["-chardev", None, "-mon", "chardev=inorder-mon0,mode=control"]
    assert re.fullmatch(r"socket,id=inorder-mon0,fd=\d+,server=on,wait=off", launched[i + 1])
    expected[i + 1] = launched[i + 1]
    assert launched[:len(expected)] == expected
    assert launched[len(expected):len(expected) + 2] == ["-S", "--preconfig"]
    fed = [l.split("-> ")[1].split(" ")[0] for l in err.splitlines() if "] -> " in l]
    assert fed == qmp
