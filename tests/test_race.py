"""The hold/release race: a client that tries from before the launch never
sees a half-configured VM, idle and with both cores busy.

The ways in: a script whose feed takes about 0.8 s, with a `-qmp unix:`
monitor inorder-qemu holds; a script that needs no feed (exec'd: the monitor
is QEMU's own from the start), running, with -S, and with -daemonize; and the
drop-in given libvirt's argv with the monitor as an inherited listening
socket (exec'd too), beside QEMU alone given the same (the control).

Each case runs INORDER_RACE_LAUNCHES launches (default 25).  The long run
(3,000 launches in all at 250) is `INORDER_RACE_LAUNCHES=250 .venv/bin/python
-m pytest -m race -rP tests/test_race.py`; any failure is kept in the
assertion message, the client's view and QEMU's stderr with it, and -rP shows
each case's count of exit statuses.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from conftest import QEMU, raw_connect, read_until, script, wait_exit, wait_gone
from test_entrances import LIBVIRT_STYLE, drop_in_dir, drop_in_path
from test_monitors import long_feed

pytestmark = pytest.mark.race

LAUNCHES = int(os.environ.get("INORDER_RACE_LAUNCHES", "25"))

QUESTIONS = (b'{"execute": "qmp_capabilities"}\n'
             b'{"execute": "qom-get", "arguments": {"path": "/machine", '
             b'"property": "dump-guest-core"}}\n'
             b'{"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}}\n'
             b'{"execute": "query-status"}\n')


@pytest.fixture(params=["idle", "busy"])
def cpu(request):
    """Nothing else running, or a busy loop on each of the two cores."""
    loops = []
    if request.param == "busy":
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield request.param
    for p in loops:
        p.kill()
        p.wait()


def ask(s: socket.socket, answers: dict, then=b"", timeout=30.0) -> None:
    """On a connected monitor: the greeting, the answers to QUESTIONS, then
    `then`, then quit."""
    answers["greeting"] = json.loads(read_until(s, b"\n", timeout).decode())
    s.sendall(QUESTIONS)
    data = read_until(s, b'"status"', timeout)
    lines = [json.loads(l) for l in data.decode().splitlines() if l.strip()]
    answers["replies"] = [l["return"] for l in lines if "return" in l]
    if then:
        s.sendall(then)
        read_until(s, b'"return"', timeout=30)
    s.sendall(b'{"execute": "quit"}\n')
    read_until(s, b"SHUTDOWN")


def first_answers(address, answers: dict, trying: threading.Event, then=b"") -> None:
    """A client retrying from before the launch: ask() as soon as it connects."""
    try:
        trying.set()
        s = raw_connect(address, timeout=60)
        try:
            ask(s, answers, then)
        finally:
            s.close()
    except Exception as e:                   # reported with the launch
        answers["error"] = repr(e)


def no_failures(failures: list) -> None:
    """Each failure in full (pytest shortens a long assertion)."""
    if failures:
        pytest.fail(f"{len(failures)} of {LAUNCHES} launches failed:\n"
                    + json.dumps(failures, indent=1, default=repr), pytrace=False)


def launch_and_ask(start, address, ok, then=b"", statuses=(0,)) -> list:
    """LAUNCHES launches; the ones whose client saw something else, or whose
    process ended with a status not in `statuses`."""
    failures = []
    exits: dict = {}
    for run in range(LAUNCHES):
        answers: dict = {}
        trying = threading.Event()
        t = threading.Thread(target=first_answers, args=(address, answers, trying, then))
        t.start()
        trying.wait()                        # it tries before the launch
        proc = start()
        t.join(90)
        if "replies" not in answers:         # the client failed: nobody quits QEMU
            proc.terminate()
        rc, _, err = wait_exit(proc, timeout=60)
        exits[rc] = exits.get(rc, 0) + 1
        if not (ok(answers.get("replies")) and rc in statuses):
            failures.append({"run": run, "client": answers, "status": rc, "stderr": err[-400:]})
    # what the long run reports (pytest -rP shows it): how many launches
    # ended how, the accepted crashes of QEMU's own included
    print(f"exit statuses of {LAUNCHES} launches: {exits}")
    return failures


def test_a_client_never_sees_a_half_configured_vm(cpu, iq_bg, tmp_path, sockdir, name):
    """A script: the client's first command after the greeting sees the last
    line's effect and every device, the VM running."""
    sock = sockdir / "race.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off",
                "-device pcie-root-port,id=rp1,chassis=1",
                "-device virtio-rng-pci,id=rng0,bus=rp1",
                *long_feed(2000))          # a feed of about 0.8 s

    def ok(replies):
        return (replies is not None and replies[1] is False
                and {"rp1", "rng0"} <= {p["name"] for p in replies[2]}
                and replies[3]["status"] == "running")
    no_failures(launch_and_ask(lambda: iq_bg(vm), sock, ok))


@pytest.mark.parametrize("stopped", [False, True], ids=["running", "-S"])
def test_an_execd_script_is_answered_only_once_built(stopped, cpu, iq_bg, tmp_path, sockdir,
                                                     name):
    """A direct plan: QEMU answers its first command with every device
    cold-plugged, the VM running (or in prelaunch with -S)."""
    sock = sockdir / "race.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off",
                "-device pcie-root-port,id=rp1,chassis=1",
                "-device virtio-rng-pci,id=rng0,bus=rp1", *(["-S"] if stopped else []))

    def ok(replies):
        return (replies is not None
                and {"rp1", "rng0"} <= {p["name"] for p in replies[2]}
                and replies[3]["status"] == ("prelaunch" if stopped else "running"))
    no_failures(launch_and_ask(lambda: iq_bg(vm), sock, ok))


def test_an_execd_daemonize_returns_once_the_monitor_answers(cpu, iq, tmp_path, sockdir, name):
    """-daemonize, exec'd: QEMU's parent returns once the VM is built; the
    monitor then answers at once, every device there."""
    sock = sockdir / "d.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off", "-daemonize",
                f"-pidfile {tmp_path}/vm.pid",
                "-device pcie-root-port,id=rp1,chassis=1",
                "-device virtio-rng-pci,id=rng0,bus=rp1")
    failures = []
    exits: dict = {}
    for run in range(LAUNCHES):
        r = iq(vm)
        exits[r.returncode] = exits.get(r.returncode, 0) + 1
        answers: dict = {}
        if r.returncode == 0:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(str(sock))         # no retry: it must be there already
                ask(s, answers, timeout=10)
            except Exception as e:
                answers["error"] = repr(e)
            finally:
                s.close()
        replies = answers.get("replies")
        if not (replies and {"rp1", "rng0"} <= {p["name"] for p in replies[2]}
                and replies[3]["status"] == "running"):
            failures.append({"run": run, "status": r.returncode, "client": answers,
                             "stderr": r.stderr[-400:]})
            pid = (tmp_path / "vm.pid").read_text().strip() if (tmp_path / "vm.pid").exists() else ""
            if pid:
                subprocess.run(["kill", "-9", pid])
        assert wait_gone(name)
    print(f"exit statuses of {LAUNCHES} launches: {exits}")
    no_failures(failures)


@pytest.mark.parametrize("via", ["drop-in", "bare QEMU"])
def test_the_drop_in_with_an_inherited_monitor_socket(via, cpu, env, tmp_path, sockdir, name):
    """libvirt's way: the caller listens, passes the socket as fd=N and
    connects at once; the first answers see every device cold-plugged and
    the VM in prelaunch (-S), then `cont` runs it.  QEMU alone, given the
    same argv and socket, is the control: what it does, the drop-in (QEMU
    itself after the exec) may do too."""
    d = drop_in_dir(tmp_path)
    e = dict(env["env"], PATH=drop_in_path(d))
    command = str(d / "qemu-system-x86_64") if via == "drop-in" else QEMU
    path = sockdir / "monitor.sock"
    procs = []

    def start():
        if path.exists():
            path.unlink()
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(path))
        listener.listen(8)
        fd = listener.fileno()
        argv = [a.replace("NAME", name) for a in LIBVIRT_STYLE] + [
            "-chardev", f"socket,id=charmonitor,fd={fd},server=on,wait=off",
            "-mon", "chardev=charmonitor,id=monitor,mode=control"]
        try:
            proc = subprocess.Popen([command, *argv], env=e,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    pass_fds=[fd])
        finally:
            listener.close()
        procs.append(proc)
        return proc

    def ok(replies):
        return (replies is not None
                and {"pci.1", "net0"} <= {p["name"] for p in replies[2]}
                and replies[3]["status"] == "prelaunch")
    try:
        # exec'd, the process is QEMU 7.2 alone, which segfaulted at `quit`
        # in 1 of 25 launches of a CI run (its first answers complete and
        # right, exit status -11): QEMU's own crash after the answers this
        # test is about, accepted as such and nothing else (the bare QEMU
        # control counts how often QEMU does it without inorder-qemu)
        no_failures(launch_and_ask(start, path, ok, then=b'{"execute": "cont"}\n',
                                   statuses=(0, -signal.SIGSEGV)))
    finally:
        for p in procs:
            for pipe in (p.stdout, p.stderr):
                pipe.close()
