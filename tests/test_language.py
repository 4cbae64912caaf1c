"""The .qcmd language end to end: includes and -readconfig run at their place,
errors in other files are located there.  (The language without QEMU:
tests/unit/test_language.py.)"""

from __future__ import annotations

import subprocess

from conftest import Monitor, script, wait_exit


def test_error_in_included_file_names_the_include(iq, tmp_path, launches):
    (tmp_path / "inc.qcmd").write_text("-netdev user,id=n0\n-netdev user,id=n0\n")
    vm = script(tmp_path / "vm.qcmd", "-m 256M", "include inc.qcmd")
    r = iq(vm)
    assert r.returncode == 1
    assert "inc.qcmd:2:17: error: netdev 'n0' is already defined" in r.stderr
    assert "vm.qcmd:5:9: note: included from here" in r.stderr
    assert launches.vms() == []


def test_included_commands_run_at_the_include(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "qmp.sock"
    (tmp_path / "ports.qcmd").write_text("-device pcie-root-port,id=rp2,chassis=2\n")
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 256M", "-S",
                f"-qmp unix:{sock},server=on,wait=off",
                "-device pcie-root-port,id=rp1,chassis=1",
                "include ports.qcmd",
                "-device pcie-root-port,id=rp3,chassis=3")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        addrs = [mon("qom-get", path=f"/machine/peripheral/rp{i}", property="addr") for i in (1, 2, 3)]
    finally:
        mon.quit()
    assert addrs == [8, 16, 24]
    assert wait_exit(proc)[0] == 0


def test_example_runs_to_completion_and_shows_the_order(env):
    import sys
    r = subprocess.run([sys.executable, "-m", "inorder", "examples/q35-in-order.qcmd"],
                       env=env["env"], capture_output=True, text=True, timeout=60,
                       cwd=__import__("pathlib").Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "2 nodes"
    assert "8\n16\n/machine/peripheral/rp1/rp1\n" in r.stdout
    assert '"status": "running"' in r.stdout


def test_readconfig_sections_run_at_its_position(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "qmp.sock"
    (tmp_path / "net.cfg").write_text(
        '# QEMU -readconfig format\n'
        '[netdev "n0"]\n  type = "user"\n\n'
        '[device "nic0"]\n  driver = "virtio-net-pci"\n  netdev = "n0"\n')
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 256M", "-S",
                f"-qmp unix:{sock},server=on,wait=off",
                "-device virtio-rng-pci,id=rng0",
                "-readconfig net.cfg",
                "-device virtio-balloon-pci,id=balloon0")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        addrs = [mon("qom-get", path=f"/machine/peripheral/{d}", property="addr")
                 for d in ("rng0", "nic0", "balloon0")]
    finally:
        mon.quit()
    assert addrs == [8, 16, 24]
    assert wait_exit(proc)[0] == 0


def test_readconfig_errors_point_into_the_file(iq, tmp_path, launches):
    (tmp_path / "bad.cfg").write_text('[device "nic0"]\n  driver = "virtio-net-pci"\n  netdev = "nope"\n')
    vm = script(tmp_path / "vm.qcmd", "-m 256M", "-readconfig bad.cfg")
    r = iq(vm)
    assert r.returncode == 1
    assert "bad.cfg:1:1: error: netdev 'nope' is used before it is defined" in r.stderr
    assert "vm.qcmd:5:13: note: included from here" in r.stderr
    (tmp_path / "bad.cfg").write_text('[device "nic0"]\n  driver = virtio-net-pci\n')
    r = iq(vm)
    assert r.returncode == 1 and "bad.cfg:2:3: error: expected [group]" in r.stderr
    assert launches.vms() == []
