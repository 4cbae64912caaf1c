"""The other ways in: the drop-in qemu-system-* name and executable scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import QEMU, Monitor, is_qemu, qemu_pids, wait_exit, wait_gone

BIN = Path(sys.executable).parent


def drop_in_dir(tmp_path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    (d / "qemu-system-x86_64").symlink_to(BIN / "inorder-qemu")
    # the QEMU under test, found on PATH after the drop-in (drop_in_path)
    real = tmp_path / "real"
    real.mkdir()
    (real / "qemu-system-x86_64").symlink_to(QEMU)
    return d


def drop_in_path(d: Path) -> str:
    """PATH for a drop-in in `d`: it, then the QEMU under test, then the rest."""
    return f"{d}:{d.parent / 'real'}:{os.environ['PATH']}"


def test_drop_in_passes_queries_straight_to_qemu(env, tmp_path):
    d = drop_in_dir(tmp_path)
    e = dict(env["env"], PATH=drop_in_path(d))
    e.pop("INORDER_QEMU")                    # found on PATH, not through itself
    for argv in (["-version"], ["-machine", "help"], ["-device", "virtio-net-pci,help"]):
        ours = subprocess.run([str(d / "qemu-system-x86_64"), *argv], env=e,
                              capture_output=True, text=True, timeout=30)
        theirs = subprocess.run([QEMU, *argv], capture_output=True, text=True, timeout=30)
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
        assert ours.stdout


def test_drop_in_becomes_qemu_when_nothing_needs_a_feed(env, tmp_path, sockdir, name, launches):
    # Every option here means the same on QEMU's argv as in order: the
    # drop-in checks the argv, then execs QEMU with exactly that argv, in its
    # own pid (the exec process model a caller such as libvirt needs).
    d = drop_in_dir(tmp_path)
    sock = sockdir / "m.sock"
    e = dict(env["env"], PATH=drop_in_path(d))
    argv = ["-accel", "tcg", "-display", "none", "-nodefaults", "-name", f"guest={name}",
            "-m", "128M", "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,id=nic0",
            "-object", '{"qom-type":"iothread","id":"io0"}',
            "-qmp", f"unix:{sock},server=on,wait=off"]
    proc = subprocess.Popen([str(d / "qemu-system-x86_64"), *argv],
                            env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = Monitor(sock)
    try:
        assert mon("query-status")["status"] == "running"
        assert mon("qom-get", path="/machine/peripheral/nic0", property="hotplugged") is False
        assert is_qemu(proc.pid)
        assert qemu_pids(name) == [proc.pid]
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
    assert launches.vms() == [argv]          # the real QEMU, through $INORDER_QEMU


def test_drop_in_errors_name_the_argv_index(env, tmp_path, launches):
    d = drop_in_dir(tmp_path)
    e = dict(env["env"], PATH=drop_in_path(d))
    r = subprocess.run([str(d / "qemu-system-x86_64"), "-accel", "tcg", "-device",
                        "virtio-net-pci,netdev=nope"], env=e, capture_output=True, text=True)
    assert r.returncode == 1
    assert "argv[3]: error: netdev 'nope' is used before it is defined" in r.stderr
    assert launches.vms() == []


def test_executable_script_with_extra_arguments(env, tmp_path, sockdir, name):
    sock = sockdir / "m.sock"
    vm = tmp_path / "vm.qcmd"
    vm.write_text("#!/usr/bin/env inorder-qemu\n"
                  "-accel tcg\n-display none\n-nodefaults\n-m 128M\n"
                  f"-qmp unix:{sock},server=on,wait=off\n")
    vm.chmod(0o755)
    e = dict(env["env"], PATH=f"{BIN}:{os.environ['PATH']}")
    # arguments after the script are QEMU options that run after its last line
    proc = subprocess.Popen([str(vm), "-name", f"guest={name}", "-S"], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = Monitor(sock)
    try:
        assert mon("query-name") == {"name": name}
        assert mon("query-status")["status"] == "prelaunch"        # -S: machine-ready
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


LIBVIRT_STYLE = [
    "-S", "-no-user-config", "-nodefaults", "-accel", "tcg", "-display", "none",
    "-machine", "q35", "-m", "256M", "-smp", "2",
    "-numa", "node,nodeid=0,cpus=0-1,memdev=ram-node0",
    "-object", '{"qom-type":"memory-backend-ram","id":"ram-node0","size":268435456}',
    "-device", '{"driver":"pcie-root-port","port":16,"chassis":1,"id":"pci.1","bus":"pcie.0","addr":"0x2"}',
    "-device", '{"driver":"virtio-net-pci","netdev":"hostnet0","id":"net0","bus":"pci.1","addr":"0x0"}',
    "-netdev", '{"type":"user","id":"hostnet0"}',
    "-msg", "timestamp=on", "-rtc", "base=utc", "-boot", "strict=on",
    "-global", "ICH9-LPC.disable_s3=1", "-uuid", "c7a5fdbd-cdaf-9455-926a-d65c16db1809",
    "-name", "guest=NAME,debug-threads=on", "-overcommit", "mem-lock=off",
]


def test_in_order_mode_refuses_forward_references_with_the_fix(iq, launches):
    argv = [a.replace("NAME", "x") for a in LIBVIRT_STYLE]
    r = iq("--dry-run", "--", *argv)
    assert r.returncode == 1
    assert "argv[14]: error: object 'ram-node0' is used before it is defined" in r.stderr
    assert "move -object" in r.stderr and "(argv[15]) before argv[13]" in r.stderr


def test_drop_in_accepts_libvirt_argv_with_forward_references(env, tmp_path, sockdir, name, launches):
    d = drop_in_dir(tmp_path)
    sock = sockdir / "m.sock"
    e = dict(env["env"], PATH=drop_in_path(d))
    argv = [a.replace("NAME", name) for a in LIBVIRT_STYLE] + [
        "-qmp", f"unix:{sock},server=on,wait=off"]
    proc = subprocess.Popen([str(d / "qemu-system-x86_64"), *argv], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = Monitor(sock)
    try:
        assert mon("query-status")["status"] == "prelaunch"          # -S, as libvirt asks
        assert mon("qom-get", path="/machine/peripheral/net0", property="hotplugged") is False
        assert "node 0 cpus: 0 1" in mon.hmp("info numa")
        mon("cont")
        assert mon("query-status")["status"] == "running"
    finally:
        mon.quit()
    rc, _, err = wait_exit(proc)
    assert rc == 0
    assert "warning: netdev 'hostnet0' is used before it is defined (QEMU resolves it at board init)" in err


def test_machine_memory_backend_goes_on_argv_wherever_it_is_written(iq):
    # QEMU resolves -machine memory-backend= before the preconfig pause
    r = iq("--dry-run", "--json", "--", "-accel", "tcg", "-machine", "q35,memory-backend=pc.ram",
           "-m", "256M", "-object", "memory-backend-ram,id=pc.ram,size=256M")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["argv"][-2:] == ["-object", "memory-backend-ram,id=pc.ram,size=256M"]
    assert not [s for s in plan["steps"] if s.get("execute") == "object-add"]


def test_compat_mode_still_refuses_an_id_never_defined(iq):
    r = iq("--qemu-compat", "--dry-run", "--", "-accel", "tcg", "-device",
           "virtio-net-pci,netdev=nowhere")
    assert r.returncode == 1 and "netdev 'nowhere' is used before it is defined" in r.stderr


def test_shebang_with_inorder_options_through_env_S(env, tmp_path, launches):
    vm = tmp_path / "plan.qcmd"
    vm.write_text("#!/usr/bin/env -S inorder-qemu --dry-run\n-accel tcg\n-m 128M\n")
    vm.chmod(0o755)
    e = dict(env["env"], PATH=f"{BIN}:{os.environ['PATH']}")
    r = subprocess.run([str(vm), "-S"], env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "# the VM is left in phase machine-ready" in r.stdout       # the extra -S
    assert launches.vms() == []


@pytest.mark.parametrize("entrance", ["drop-in", "feed"])
def test_fds_the_caller_passes_reach_qemu(entrance, env, tmp_path, sockdir, name, launches):
    # libvirt's way with files: an fd set (-add-fd) opened as /dev/fdset/N.
    # The drop-in execs QEMU (fds inherited as they are); the feed passes
    # every fd inorder-qemu was given on to QEMU.
    sock = sockdir / "m.sock"
    log = tmp_path / "debugcon.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    argv = ["-accel", "tcg", "-display", "none", "-nodefaults", "-name", f"guest={name}",
            "-add-fd", f"set=3,fd={fd},opaque=debug-log",
            "-chardev", "file,id=dbg,path=/dev/fdset/3,append=on",
            "-device", "isa-debugcon,iobase=0x402,chardev=dbg",      # SeaBIOS writes here
            "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
            "-qmp", f"unix:{sock},server=on,wait=off"]
    if entrance == "drop-in":
        d = drop_in_dir(tmp_path)
        command = [str(d / "qemu-system-x86_64"), *argv]
    else:
        command = [sys.executable, "-m", "inorder", "--feed", "--", *argv]
    proc = subprocess.Popen(command, env=dict(env["env"], PATH=drop_in_path(tmp_path / 'bin')),
                            pass_fds=[fd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    os.close(fd)
    mon = Monitor(sock)
    try:
        [fdset] = mon("query-fdsets")
        assert fdset["fdset-id"] == 3 and fdset["fds"][0]["opaque"] == "debug-log"
        assert mon("query-status")["status"] == "running"
        import time
        deadline = time.monotonic() + 20
        while b"SeaBIOS" not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"SeaBIOS" in log.read_bytes()
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
    [launched] = launches.vms()
    assert ("--preconfig" in launched) == (entrance == "feed")


def test_drop_in_answers_libvirts_capability_probe(env, tmp_path, sockdir, name, launches):
    # libvirt's probe: -daemonize must return only once the monitor answers
    # and the pidfile names the process to kill later, which is QEMU
    d = drop_in_dir(tmp_path)
    sock, pidfile = sockdir / "qmp.monitor", tmp_path / "qmp.pid"
    argv = ["-S", "-no-user-config", "-nodefaults", "-nographic", "-name", f"guest={name}",
            "-machine", "none,accel=tcg", "-qmp", f"unix:{sock},server=on,wait=off",
            "-pidfile", str(pidfile), "-daemonize"]
    r = subprocess.run([str(d / "qemu-system-x86_64"), *argv], capture_output=True, text=True,
                       env=dict(env["env"], PATH=drop_in_path(d)),
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    assert qemu_pids(name) == [pid]
    assert is_qemu(pid)
    assert sock.exists()                     # there already: no waiting for it
    mon = Monitor(sock, timeout=2)
    assert mon("query-status")["status"] == "prelaunch"
    assert mon("query-machines")
    mon.quit()
    assert wait_gone(name)
    assert launches.vms() == [argv]


def test_drop_in_hands_an_inherited_monitor_socket_to_qemu_untouched(env, tmp_path, sockdir, name):
    # As libvirt passes its monitor: a listening socket, fd=N.  inorder-qemu
    # holds it from its first instructions (it cannot know yet whether a feed
    # follows), then takes its hold connection back before the exec.
    import socket
    path = sockdir / "inherited.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(8)
    fd = listener.fileno()
    d = drop_in_dir(tmp_path)
    argv = ["-accel", "tcg", "-display", "none", "-nodefaults", "-name", f"guest={name}", "-S",
            "-chardev", f"socket,id=charmonitor,fd={fd},server=on,wait=off",
            "-mon", "chardev=charmonitor,id=monitor,mode=control"]
    proc = subprocess.Popen([str(d / "qemu-system-x86_64"), *argv], pass_fds=[fd],
                            env=dict(env["env"], PATH=drop_in_path(d)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    listener.close()
    import time
    deadline = time.monotonic() + 20
    while not is_qemu(proc.pid):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    mon = Monitor(path)
    try:
        assert mon("query-status")["status"] == "prelaunch"
        mon("cont")
        assert mon("query-status")["status"] == "running"
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


# what the command line imports and the warm start must not (warm.py; the
# issue's list: no asyncio, qemu.qmp, lark, argparse or logging; socket's
# enum and selectors, where an inherited socket is held: run/inherited.py)
NOT_ON_THE_WARM_START = {"getopt", "json", "re", "signal", "enum", "lark", "asyncio",
                         "qemu.qmp", "argparse", "logging", "inorder.cli", "inorder.plan.kept",
                         "socket", "selectors"}
INHERITED_FD = 40


@pytest.mark.parametrize("entrance", ["script", "-- ARGV", "drop-in", "drop-in, inherited monitor"])
def test_a_second_start_execs_from_the_kept_record(entrance, env, tmp_path, sockdir, name):
    """The warm start: the second run of the same command line execs QEMU
    from the record its first run kept, before the command line's imports,
    and QEMU answers with the VM built, in the pid the caller started.  With
    an inherited listening monitor (libvirt's way) the hold is taken back
    before the exec, and the first client is greeted by QEMU."""
    sock = sockdir / "w.sock"
    monitor = [f"-qmp unix:{sock},server=on,wait=off"]
    if entrance == "drop-in, inherited monitor":
        monitor = [f"-chardev socket,id=charmonitor,fd={INHERITED_FD},server=on,wait=off",
                   "-mon chardev=charmonitor,id=monitor,mode=control"]
    lines = ["-accel tcg", "-display none", "-nodefaults", f"-name guest={name}", "-m 128M",
             "-netdev user,id=n0", "-device virtio-net-pci,netdev=n0,id=nic0", *monitor]
    argv = [word for line in lines for word in line.split(" ", 1)]
    e = dict(env["env"], INORDER_TIMINGS="1")
    if entrance == "script":
        vm = tmp_path / "vm.qcmd"
        vm.write_text("\n".join(lines) + "\n")
        command = [BIN / "inorder-qemu", vm]
    elif entrance == "-- ARGV":
        command = [BIN / "inorder-qemu", "--", *argv]
    else:
        d = drop_in_dir(tmp_path)
        e["PATH"] = drop_in_path(d)
        command = [d / "qemu-system-x86_64", *argv]
    for run in ("first", "second"):
        fds = []
        if "inherited" in entrance:
            import socket
            sock.unlink(missing_ok=True)
            with socket.socket(socket.AF_UNIX) as listener:
                listener.bind(str(sock))
                listener.listen(8)
                os.dup2(listener.fileno(), INHERITED_FD)
            fds = [INHERITED_FD]
        proc = subprocess.Popen([sys.executable, "-X", "importtime", *map(str, command)],
                                env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=tmp_path, pass_fds=fds)
        for fd in fds:
            os.close(fd)
        try:
            mon = Monitor(sock)
        except Exception:
            proc.kill()
            pytest.fail(f"the {run} run: no monitor: {wait_exit(proc)[2][-2000:]}")
        try:
            assert mon("query-status")["status"] == "running"
            assert mon("qom-get", path="/machine/peripheral/nic0", property="hotplugged") is False
            assert is_qemu(proc.pid)
        finally:
            mon.quit()
        rc, _, err = wait_exit(proc)
        assert rc == 0, err
    imported = {line.split("|")[-1].strip() for line in err.splitlines()
                if line.startswith("import time:")}
    assert "inorder.warm" in imported
    assert not imported & NOT_ON_THE_WARM_START, sorted(imported & NOT_ON_THE_WARM_START)
    [marks] = [json.loads(l.split(" ", 1)[1]) for l in err.splitlines()
               if l.startswith("inorder-timings ")]
    assert list(marks) == ["main", "record", "exec"]   # no profile, no plan: the record


def test_a_new_script_is_parsed_without_importing_lark(env, tmp_path):
    """lark builds the grammar's tables once; a script never seen before is
    then parsed by lang/lalr.py from the kept tables, without lark's import
    (70 to 130 ms of a cold start)."""
    for n in (1, 2):
        vm = tmp_path / f"vm{n}.qcmd"
        vm.write_text(f"-machine q35\n-m {128 * n}M\nqom-set path=/machine "
                      "property=dump-guest-core value=true\n")
        r = subprocess.run([sys.executable, "-X", "importtime", str(BIN / "inorder-qemu"),
                            "--check", str(vm)], env=env["env"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines()
                if line.startswith("import time:")}
    assert "inorder.lang.lalr" in imported and "inorder.plan.planner" in imported
    assert not {name for name in imported if name.split(".")[0] == "lark"}
