"""Faults, injected with real QEMU: each ends with a clear message, the right
exit status, and nothing left behind (the leak fixture of conftest.py checks
processes, sockets, pipes and temporary files after every test)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import QEMU, Monitor, qemu_pids, script, wait_exit, wait_fed, wait_gone


def test_a_binary_that_is_not_executable(iq, tmp_path, launches):
    binary = tmp_path / "qemu-system-x86_64"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o644)
    r = iq("--qemu", binary, script(tmp_path / "vm.qcmd", "-m 128M"))
    assert r.returncode == 1
    assert f"error: QEMU binary '{binary}' is not an executable file" in r.stderr
    assert launches.vms() == []


def test_a_binary_that_is_not_qemu(iq, tmp_path):
    r = iq("--qemu", "/bin/true", script(tmp_path / "vm.qcmd", "-m 128M"))
    assert r.returncode == 1
    assert "error: cannot probe /bin/true" in r.stderr and "Traceback" not in r.stderr


def test_a_binary_that_is_not_qemu_and_still_answers_help(iq, tmp_path):
    """The probe fails while `-h` still runs: that is stopped, and asyncio
    prints no traceback of its own after its loop closed."""
    binary = tmp_path / "qemu-system-x86_64"
    os.mkfifo(f"{binary}.fifo")
    # `-h` never answers; the probe's QEMU exits once `-h` runs (its pid
    # passed through the fifo: no sleeping on either side)
    binary.write_text('#!/bin/sh\n'
                      '[ "$1" = -h ] && { echo $$ >"$0.fifo"; exec sleep 600; }\n'
                      'read pid <"$0.fifo"; echo $pid >"$0.pid"\n')
    binary.chmod(0o755)
    r = iq("--qemu", binary, script(tmp_path / "vm.qcmd", "-m 128M"))
    assert r.returncode == 1
    assert f"error: cannot probe {binary}" in r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr
    pid = int((tmp_path / "qemu-system-x86_64.pid").read_text())
    assert not os.path.exists(f"/proc/{pid}"), "the probe left `-h` running"


def test_a_monitor_socket_that_cannot_be_made_is_located(iq, tmp_path, name):
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                "-qmp unix:/sys/m.sock,server=on,wait=off",
                "qom-set path=/machine property=dump-guest-core value=true")
    r = iq(vm)
    assert r.returncode == 1
    assert "vm.qcmd:6:6: error: cannot create monitor socket /sys/m.sock: " \
           "Operation not permitted" in r.stderr
    assert qemu_pids(name) == []


def test_a_monitor_path_over_the_socket_limit_is_located(iq, tmp_path, launches):
    path = "/tmp/" + "x" * 110 + ".sock"
    r = iq(script(tmp_path / "vm.qcmd", "-m 128M", f"-qmp unix:{path},server=on,wait=off"))
    assert r.returncode == 1
    assert "vm.qcmd:5:6: error: monitor path" in r.stderr and "(107 bytes)" in r.stderr
    assert launches.vms() == []


def test_an_include_that_vanishes_after_the_plan_was_kept(iq, tmp_path, launches):
    (tmp_path / "inc.qcmd").write_text("-netdev user,id=n0\n")
    vm = script(tmp_path / "vm.qcmd", "-m 128M", "include inc.qcmd")
    assert iq("--check", vm).returncode == 0              # planned, and kept
    (tmp_path / "inc.qcmd").unlink()
    r = iq(vm)
    assert r.returncode == 1
    assert "vm.qcmd:5:9: error: cannot read" in r.stderr and "inc.qcmd" in r.stderr
    assert launches.vms() == []


def test_a_100000_line_script_checks(iq, tmp_path):
    lines = [f"-object iothread,id=io{i}" for i in range(50_000)]
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 50_000
    r = iq("--check", script(tmp_path / "vm.qcmd", "-m 128M", *lines), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]


def test_a_script_with_1000_devices_runs(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "m.sock"
    lines = [f"-name guest={name}", "-m 256M", f"-qmp unix:{sock},server=on,wait=off"]
    for bus in range(2):
        lines.append(f"-device virtio-serial-pci,id=vs{bus},max_ports=511")
        lines += [f"-device virtserialport,bus=vs{bus}.0,nr={n},id=p{bus}_{n}"
                  for n in range(1, 500)]
    proc = iq_bg(script(tmp_path / "vm.qcmd", *lines))
    mon = Monitor(sock, timeout=120)
    try:
        assert mon("query-status")["status"] == "running"
        ports = mon("qom-list", path="/machine/peripheral")
        assert len([p for p in ports if p["name"].startswith("p")]) == 998
    finally:
        mon.quit()
    assert wait_exit(proc, timeout=60)[0] == 0


def test_a_disk_another_qemu_holds_is_refused_and_left_clean(iq, tmp_path, sockdir, qcow2, name):
    other = subprocess.Popen([QEMU, "-accel", "tcg", "-display", "none",
                              "-nodefaults", "-M", "none", "-S", "-name", "guest=holder-" + name[7:],
                              "-blockdev", f"driver=file,filename={qcow2},node-name=f",
                              "-blockdev", "driver=qcow2,file=f,node-name=d",
                              "-qmp", f"unix:{sockdir}/holder.sock,server=on,wait=off"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    holder = Monitor(sockdir / "holder.sock")
    try:
        vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                    f"-blockdev driver=file,filename={qcow2},node-name=f0",
                    "-blockdev driver=qcow2,file=f0,node-name=d0",
                    "-device virtio-blk-pci,drive=d0",
                    "qom-set path=/machine property=dump-guest-core value=true")
        r = iq(vm)
        assert r.returncode == 1
        assert "error: QEMU refused" in r.stderr and "lock" in r.stderr, r.stderr
        assert "vm.qcmd:" in r.stderr
        assert wait_gone(name)
    finally:
        holder.quit()
        other.wait(30)
    check = subprocess.run(["qemu-img", "check", str(qcow2)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_qemu_killed_at_random_points_of_a_feed(env, tmp_path, sockdir, qcow2, name):
    # the feed writes nothing to the image: after every kill it is clean
    lines = [f"-name guest={name}", "-m 128M", f"-qmp unix:{sockdir}/m.sock,server=on,wait=off",
             f"-blockdev driver=file,filename={qcow2},node-name=f0",
             "-blockdev driver=qcow2,file=f0,node-name=d0", "-device virtio-blk-pci,drive=d0"]
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 3000
    vm = script(tmp_path / "vm.qcmd", *lines)
    before = subprocess.run(["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", str(qcow2),
                             str(qcow2)], capture_output=True).returncode
    assert before == 0
    image = qcow2.read_bytes()
    rng = random.Random(7)
    for run in range(8):
        proc = subprocess.Popen([sys.executable, "-m", "inorder", "-v", str(vm)], text=True,
                                env=env["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=tmp_path)
        wait_fed(proc, rng.randrange(1, 3000))
        [pid] = qemu_pids(name)
        os.kill(pid, signal.SIGKILL)
        rc, _, err = wait_exit(proc, timeout=60)
        assert rc == 1, err[-2000:]
        assert "QEMU exited (status 137)" in err and "vm.qcmd:" in err and "Traceback" not in err
        assert wait_gone(name)
        assert os.listdir(sockdir) == []
        check = subprocess.run(["qemu-img", "check", str(qcow2)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
    assert qcow2.read_bytes() == image            # the guest-visible content, and more


@pytest.mark.parametrize("line, said, at", [
    ("-rtc base=yesterday", "invalid datetime format", "5:1"),
    # (--check knows the machine's property names, not their values' types):
    # QEMU names the key, and the error is at it
    ("-machine q35,dump-guest-core=maybe", "Parameter 'dump-guest-core' expects", "5:14"),
])
def test_qemu_refusing_its_argv_at_launch_is_located(line, said, at, iq, tmp_path, name):
    # QEMU exits before its monitor answers: its last words, at the line
    r = iq(script(tmp_path / "vm.qcmd", f"-name guest={name}", line,
                  "qom-set path=/machine property=dump-guest-core value=true", "quit"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"vm.qcmd:{at}: error: QEMU refused" in r.stderr and said in r.stderr, r.stderr
    assert wait_gone(name)


@pytest.mark.parametrize("feed", [True])
def test_a_held_monitor_qemu_refuses_is_located_at_its_line(feed, iq, tmp_path, sockdir, name):
    # QEMU quotes the words it was given, "-chardev socket,id=m0,fd=5,...",
    # not the script's path=...: the error must still find the line
    sock = f"{sockdir}/m.sock"
    lines = [f"-name guest={name}", "-machine q35",
             f"-chardev socket,id=m0,path={sock},server=on,wait=off,"
             f"logfile={tmp_path}/no/such/dir/log",
             "-mon chardev=m0,mode=control"]
    if feed:
        lines.append("qom-set path=/machine property=dump-guest-core value=true")
    r = iq(script(tmp_path / "vm.qcmd", *lines))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "vm.qcmd:6:1: error: QEMU refused '-chardev'" in r.stderr, r.stderr
    assert "No such file or directory" in r.stderr
    assert wait_gone(name)
    assert os.listdir(sockdir) == []


def test_a_cache_that_cannot_be_written_is_a_warning_and_the_vm_runs(env, tmp_path, name):
    # the profile is probed, used from memory, and said to be probed again
    e = dict(env["env"], INORDER_CACHE=str(tmp_path / "file" / "cache"))
    (tmp_path / "file").write_text("")            # a file where a folder should be
    path = script(tmp_path / "vm.qcmd", f"-name guest={name}",
                  "qom-set path=/machine property=dump-guest-core value=true", "quit")
    r = subprocess.run([sys.executable, "-m", "inorder", str(path)], env=e,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "warning: cannot keep the profile" in r.stderr and "Traceback" not in r.stderr
    assert wait_gone(name)


def test_a_binary_of_another_architecture_is_located_at_what_it_lacks(iq, tmp_path, name):
    # an x86 script, an aarch64 QEMU: its profile is probed like any other,
    # and what that binary lacks is found before anything starts
    arm = shutil.which("qemu-system-aarch64")
    assert arm, "qemu-system-aarch64 is required (Debian: qemu-system-arm)"
    r = iq("--qemu", arm, script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35",
                                 "qom-set path=/machine property=dump-guest-core value=true"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "vm.qcmd:5:10: error: unknown machine type 'q35'" in r.stderr, r.stderr
    r = iq("--qemu", arm, script(tmp_path / "vm.qcmd", f"-name guest={name}"))
    assert r.returncode == 1
    assert "vm.qcmd:1:1: error: " + arm + " has no default machine type" in r.stderr, r.stderr
    assert wait_gone(name)


def test_a_refusal_that_names_no_option_is_located_at_the_option(env, tmp_path, name):
    # the profile does not know everything: a CPU property value QEMU
    # refuses as it starts, without naming -cpu, goes to the -cpu line
    r = subprocess.run([sys.executable, "-m", "inorder", str(script(
        tmp_path / "vm.qcmd", f"-name guest={name}", "-cpu qemu64,vendor=x",
        "qom-set path=/machine property=dump-guest-core value=true"))],
        env=env["env"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "vm.qcmd:5:1:" in r.stderr, r.stderr
    assert wait_gone(name)
