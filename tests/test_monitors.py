"""Monitors start suspended and are released when the feed is done: every
form, as a client would use it."""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import subprocess
import sys
import time

import pexpect
import pytest

from conftest import (Monitor, free_port, qemu_pids, qemu_version, raw_connect, read_until, script,
                      wait_exit, wait_fed, wait_gone)

MARK = "qom-set path=/machine property=dump-guest-core value=false"


def long_feed(n):
    """n commands (about 0.4 ms each), then a mark that a client must already
    see in its first command."""
    return ["qom-set path=/machine property=dump-guest-core value=true"] * n + [MARK]


def check_qmp(address, name_hint=""):
    mon = Monitor(address)
    try:
        assert mon("qom-get", path="/machine", property="dump-guest-core") is False
        assert mon("query-status")["status"] == "running"
    finally:
        mon.quit()


@pytest.mark.parametrize("form", ["qmp-unix", "qmp-tcp", "mon-chardev-unix", "mon-chardev-tcp"])
def test_qmp_monitor_forms(form, iq_bg, tmp_path, sockdir, name):
    sock, port = sockdir / "m.sock", free_port()
    lines = {
        "qmp-unix": [f"-qmp unix:{sock},server=on,wait=off"],
        "qmp-tcp": [f"-qmp tcp:127.0.0.1:{port},server=on,wait=off"],
        "mon-chardev-unix": [f"-chardev socket,id=c0,path={sock},server=on,wait=off",
                             "-mon chardev=c0,mode=control"],
        "mon-chardev-tcp": [f"-chardev socket,id=c0,host=127.0.0.1,port={port},server=on,wait=off",
                            "-mon chardev=c0,mode=control"],
    }[form]
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M", *lines, *long_feed(200))
    proc = iq_bg(vm)
    check_qmp(sock if "unix" in form else ("127.0.0.1", port))
    assert wait_exit(proc)[0] == 0
    assert os.listdir(sockdir) == []


def test_qmp_pretty_greets_pretty(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "p.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp-pretty unix:{sock},server=on,wait=off", *long_feed(200))
    proc = iq_bg(vm)
    s = raw_connect(sock)
    greeting = read_until(s, b"\r\n}\r\n")
    assert b'{\r\n    "QMP": {' in greeting
    s.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "qom-get", "arguments": '
              b'{"path": "/machine", "property": "dump-guest-core"}}\n')
    assert b'"return": false' in read_until(s, b'"return": false')
    s.sendall(b'{"execute": "quit"}\n')
    read_until(s, b"SHUTDOWN")
    s.close()
    assert wait_exit(proc)[0] == 0


@pytest.mark.parametrize("form", ["monitor-unix", "mon-readline"])
def test_hmp_monitor_forms(form, iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "h.sock"
    lines = {
        "monitor-unix": [f"-monitor unix:{sock},server=on,wait=off"],
        "mon-readline": [f"-chardev socket,id=h0,path={sock},server=on,wait=off",
                         "-mon chardev=h0,mode=readline"],
    }[form]
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M", *lines, *long_feed(200))
    proc = iq_bg(vm)
    s = raw_connect(sock)
    banner = read_until(s, b"(qemu) ")
    assert f"QEMU {qemu_version()}".encode() in banner and b"monitor - type 'help'" in banner
    s.sendall(b"info status\r\n")
    assert b"VM status: running" in read_until(s, b"VM status: running")
    s.sendall(b"quit\r\n")
    s.settimeout(30)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    s.close()
    assert wait_exit(proc)[0] == 0


def inherited(tmp_path, sockdir, name):
    path = sockdir / "libvirt-monitor.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(8)
    fd = listener.fileno()
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-chardev socket,id=charmonitor,fd={fd},server=on,wait=off",
                "-mon chardev=charmonitor,id=monitor,mode=control", *long_feed(400))
    return listener, path, vm


def qmp_replies(s, requests: list[bytes], quit=True) -> list:
    """Greeting, then the replies to `requests` (after qmp_capabilities)."""
    f = s.makefile("rb")
    s.settimeout(30)
    greeting = json.loads(f.readline())
    assert "QMP" in greeting
    s.sendall(b'{"execute": "qmp_capabilities"}\n' + b"".join(r + b"\n" for r in requests))
    replies = []
    while len(replies) < len(requests) + 1:
        msg = json.loads(f.readline())
        if "return" in msg or "error" in msg:
            replies.append(msg.get("return", msg.get("error")))
    if quit:
        s.sendall(b'{"execute": "quit"}\n')
        while b"SHUTDOWN" not in f.readline():
            pass
    f.close()
    s.close()
    return replies[1:]


DUMP_GUEST_CORE = b'{"execute": "qom-get", "arguments": {"path": "/machine", "property": "dump-guest-core"}}'


def test_inherited_listening_fd_as_libvirt_passes_it(iq_bg, tmp_path, sockdir, name):
    listener, path, vm = inherited(tmp_path, sockdir, name)
    proc = iq_bg(vm, pass_fds=[listener.fileno()])
    listener.close()
    # connect once QEMU runs, during the feed: the greeting waits for its end
    deadline = time.monotonic() + 30
    while not qemu_pids(name) and time.monotonic() < deadline:
        time.sleep(0.005)
    s = raw_connect(path)
    assert qmp_replies(s, [DUMP_GUEST_CORE]) == [False]
    rc, _, err = wait_exit(proc)
    assert rc == 0 and "warning" not in err


def test_a_client_faster_than_inorder_qemu_gets_a_warning(iq_bg, tmp_path, sockdir, name):
    listener, path, vm = inherited(tmp_path, sockdir, name)
    early = raw_connect(path)              # before inorder-qemu even starts
    proc = iq_bg(vm, pass_fds=[listener.fileno()])
    listener.close()
    # the documented limit: this client is greeted during the feed
    assert qmp_replies(early, [DUMP_GUEST_CORE], quit=False) == [True]
    later = raw_connect(path)
    assert qmp_replies(later, [DUMP_GUEST_CORE]) == [False]
    rc, _, err = wait_exit(proc)
    assert rc == 0
    assert "warning: a client connected to monitor fd" in err


def test_qmp_on_stdio_without_a_terminal_is_relayed_after_the_feed(iq, tmp_path, name):
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M", "-qmp stdio",
                *long_feed(200))
    requests = ['{"execute": "qmp_capabilities"}',
                '{"execute": "qom-get", "arguments": {"path": "/machine", "property": "dump-guest-core"}}',
                '{"execute": "quit"}']
    r = iq(vm, input="\n".join(requests) + "\n")
    assert r.returncode == 0, r.stderr
    replies = [json.loads(l) for l in r.stdout.splitlines()]
    assert "QMP" in replies[0]
    assert replies[1] == {"return": {}}
    assert replies[2] == {"return": False}


def spawn(env, *args):
    return pexpect.spawn(sys.executable, ["-m", "inorder", *args], env=env["env"],
                         timeout=30, encoding="utf-8", codec_errors="replace")


def test_nographic_terminal_monitor_and_quit_keys(env, name):
    child = spawn(env, "--", "-accel", "tcg", "-m", "128M", "-nographic", "-name", f"guest={name}",
                  "-net", "none")
    child.send("\x01c")                    # Ctrl-a c: the monitor
    child.expect_exact("(qemu) ")
    child.sendline("info status")
    child.expect("VM status: running")
    child.send("\x01x")                    # Ctrl-a x: quit
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert wait_gone(name)


def test_monitor_on_stdio_terminal(env, name):
    child = spawn(env, "--", "-accel", "tcg", "-display", "none", "-nodefaults", "-m", "128M",
                  "-name", f"guest={name}", "-monitor", "stdio")
    child.expect_exact("(qemu) ")          # the banner shows only at the release
    child.sendline("info status")
    child.expect("VM status: running")
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_kill_9_during_the_feed_leaves_nothing(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "k.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off", *long_feed(6000))
    rng = random.Random(1234)
    for run in range(20):
        proc = iq_bg("-v", vm)
        # a random point: before QEMU starts, or after a random number of steps
        steps = rng.choice([0, rng.randrange(1, 6000)])
        if steps:
            wait_fed(proc, steps)
        proc.kill()
        proc.wait()
        assert wait_gone(name, timeout=10), f"run {run}: QEMU survived"
        deadline = time.monotonic() + 5
        while os.listdir(sockdir) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.listdir(sockdir) == [], f"run {run}: left {os.listdir(sockdir)}"
        watchdogs = subprocess.run(["pgrep", "-f", f"inorder.*{tmp_path}"], capture_output=True,
                                   text=True).stdout.split()
        assert watchdogs == [], f"run {run}: a process of inorder-qemu lingers"


def test_daemonize_returns_once_configured_and_writes_the_pidfile(iq, tmp_path, sockdir, name):
    sock, pidfile = sockdir / "d.sock", tmp_path / "qemu.pid"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off", f"-pidfile {pidfile}", "-daemonize",
                *long_feed(200))
    r = iq(vm)
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    assert qemu_pids(name) == [pid]
    assert open(f"/proc/{pid}/cmdline").read().startswith(os.path.realpath("/usr/bin/qemu-system-x86_64")) \
        or "qemu-system-x86_64" in open(f"/proc/{pid}/cmdline").read()
    assert pidfile_locked(pidfile)           # by QEMU, as QEMU's own -pidfile is
    check_qmp(sock)                          # configured, running; then quit
    assert wait_gone(name)


def pidfile_locked(path) -> bool:
    import fcntl
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def test_pidfile_appears_at_the_release_locked_and_goes_with_qemu(iq_bg, iq, tmp_path, sockdir, name):
    sock, pidfile = sockdir / "p.sock", tmp_path / "vm.pid"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off", f"-pidfile {pidfile}", *long_feed(200))
    proc = iq_bg(vm)
    deadline = time.monotonic() + 30
    while not sock.exists() and time.monotonic() < deadline:   # held: the feed runs
        time.sleep(0.005)
    assert sock.exists() and not pidfile.exists()
    mon = Monitor(sock)                         # greeted at the release
    try:
        assert int(pidfile.read_text()) == qemu_pids(name)[0]
        assert pidfile_locked(pidfile)
        # a second VM with the same pidfile is refused before it starts anything
        r = iq(script(tmp_path / "second.qcmd", "-m 128M", f"-pidfile {pidfile}"))
        assert r.returncode == 1 and "cannot lock pid file" in r.stderr
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
    assert not pidfile.exists()                 # QEMU's own -pidfile goes at exit too
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".vm.pid")] == []


def test_user_socket_gets_the_users_umask(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "u.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off")
    proc = iq_bg(vm, preexec_fn=lambda: os.umask(0o077))
    mon = Monitor(sock)
    try:
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o700
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


def test_tcp_monitor_on_all_addresses_is_mentioned(iq_bg, tmp_path, name):
    port = free_port()
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp tcp:0.0.0.0:{port},server=on,wait=off")
    proc = iq_bg("-v", vm)
    Monitor(("127.0.0.1", port)).quit()
    rc, _, err = wait_exit(proc)
    assert rc == 0
    assert f"monitor tcp 0.0.0.0:{port} is reachable from other hosts" in err
