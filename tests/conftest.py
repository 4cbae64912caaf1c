"""Shared fixtures: every test runs the real inorder-qemu against real QEMU.

`iq` runs the command line tool as a user would (a subprocess).  The QEMU it
uses is a logging wrapper that execs the real qemu-system-x86_64, so a test can
tell exactly which QEMU processes were started and with what argv.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

# the QEMU under test: Debian 12's 7.2, or another tier's (.ci/qemu-10)
QEMU = os.environ.get("INORDER_TEST_QEMU") or shutil.which("qemu-system-x86_64")
COMMON = ["-accel tcg", "-display none", "-nodefaults"]


def _exe(qemu: str | None) -> str | None:
    """What /proc/PID/exe shows for a QEMU process: the binary itself, or
    for a tier's wrapper script the program it names on an `# exe:` line
    (.ci/qemu-10: the root's loader)."""
    if qemu is None:
        return None
    with open(qemu, "rb") as f:
        head = f.read(4096)
    named = re.search(rb"^# exe: (.+)$", head, re.M) if head.startswith(b"#!") else None
    return os.path.realpath(named.group(1).decode() if named else qemu)


QEMU_EXE = _exe(QEMU)


def is_qemu(pid: int) -> bool:
    """Whether process `pid` is QEMU itself by now (not inorder-qemu, nor
    the shell of a wrapper)."""
    try:
        return os.path.realpath(f"/proc/{pid}/exe") == QEMU_EXE
    except OSError:
        return False


@functools.cache
def qemu_version() -> str:
    """The QEMU under test's major.minor ("7.2", "10.0"): what a test that
    names a version or a versioned machine type expects."""
    out = subprocess.run([QEMU, "-version"], capture_output=True, text=True, check=True).stdout
    return re.search(r"version (\d+\.\d+)", out).group(1)


def _processes(pattern: str) -> set[int]:
    # (--: a pattern that starts with a dash is not an option of pgrep's)
    out = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()} - {os.getpid()}


TOKEN = "INORDER_TEST_TOKEN"
# inorder-qemu's processes, as the tests start them: `python -m inorder` or
# the command itself (a drop-in is named qemu-system-*)
OURS = "-m inorder|bin/inorder-qemu"


def _token(pid: int) -> str | None:
    """The test token in a process's environment (None: none, or gone)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for entry in f.read().split(b"\0"):
                if entry.startswith(TOKEN.encode() + b"="):
                    return entry.split(b"=", 1)[1].decode()
    except OSError:
        pass
    return None


def _describe(pid: int) -> str:
    """What a process left behind is: enough to tell whose it was."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return f"{pid} (gone)"
    words = " ".join(a.decode(errors="replace") for a in argv)[:300]
    return (f"{pid}: state {fields[0]}, parent {fields[1]}, {age:.1f} s old, "
            f"token {_token(pid)}: {words}")


def _fds() -> set[str]:
    """This process's open sockets and pipes (what a test's clients leave)."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(("socket:", "pipe:")):
            out.add(f"{fd}:{target}")
    return out


@pytest.fixture(autouse=True)
def nothing_leaks(request, tmp_path):
    """Every test that starts QEMU (every test here but the unit tier's):
    afterwards no QEMU or inorder-qemu process it started is left, no socket
    or pipe of this process, and no temporary file of inorder-qemu's (a held
    socket's temporary name, a pidfile's)."""
    if "unit" in request.keywords:
        yield
        return
    # each test's processes carry its token in their environment (QEMU
    # inherits inorder-qemu's): a process another test run started, with
    # another token, is not this test's; one without a token (libvirt's
    # QEMU, whose environment libvirt sets) still counts
    token = uuid.uuid4().hex
    request.getfixturevalue("env")["env"][TOKEN] = token
    qemus, ours, fds = _processes("qemu-system"), _processes(OURS), _fds()
    yield
    deadline = time.monotonic() + 15
    while True:                      # what the test ended may take a moment to go
        left_qemu = {p for p in _processes("qemu-system") - qemus if _token(p) in (token, None)}
        left_ours = {p for p in _processes(OURS) - ours if _token(p) in (token, None)}
        if not (left_qemu or left_ours) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left_qemu, "QEMU processes left: " + "; ".join(map(_describe, sorted(left_qemu)))
    assert not left_ours, "inorder-qemu processes left: " + \
        "; ".join(map(_describe, sorted(left_ours)))
    temps = [str(p) for p in tmp_path.rglob(".iq*")] + \
        [str(p) for p in tmp_path.rglob(".*.inorder-*")]
    assert not temps, f"temporary files left: {temps}"
    # a pipe or socket the test opened and did not close is the test's
    # leak; one that inorder-qemu's child kept would show as a process
    assert _fds() <= fds, f"fds left open: {sorted(_fds() - fds)}"


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    """Environment for inorder-qemu: a private profile cache and a logging QEMU."""
    assert QEMU, "qemu-system-x86_64 is required (Debian: qemu-system-x86)"
    root = tmp_path_factory.mktemp("env")
    log = root / "launches.log"
    wrapper = root / "qemu-logged"
    wrapper.write_text(
        "#!/bin/sh\n"
        # one write(2) with O_APPEND per launch: QEMUs started at once (the
        # probe and its `-h`) must not interleave their lines
        f"python3 -c 'import json,os,sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND "
        f"| os.O_CREAT); os.write(fd, (json.dumps(sys.argv[2:]) + chr(10)).encode())' "
        f"{log} \"$@\"\n"
        f"exec {QEMU} \"$@\"\n")
    wrapper.chmod(0o755)
    e = dict(os.environ)
    e["INORDER_CACHE"] = str(root / "cache")
    e["INORDER_QEMU"] = str(wrapper)
    e.pop("PYTHONWARNINGS", None)
    return {"env": e, "log": log, "wrapper": str(wrapper)}


class Launches:
    """The QEMU processes started through the wrapper since the last reset."""

    def __init__(self, log: Path):
        self.log = log

    def reset(self):
        self.log.write_text("")

    def all(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(l) for l in self.log.read_text().splitlines() if l.strip()]

    def vms(self) -> list[list[str]]:
        """Launches other than the profile probe and its `-h`."""
        return [a for a in self.all() if a != ["-h"] and a[:2] != ["-M", "none"]]


@pytest.fixture
def launches(env):
    l = Launches(env["log"])
    l.reset()
    return l


@pytest.fixture
def iq(env, tmp_path):
    """Run inorder-qemu; returns CompletedProcess (text)."""
    def run(*args, timeout=60, input=None):
        return subprocess.run([sys.executable, "-m", "inorder", *map(str, args)],
                              env=env["env"], capture_output=True, text=True,
                              timeout=timeout, input=input, cwd=tmp_path)
    return run


@pytest.fixture
def iq_bg(env, tmp_path):
    """Start inorder-qemu in the background; the test must end it."""
    procs = []

    def start(*args, pass_fds=(), preexec_fn=None, stdin=None):
        p = subprocess.Popen([sys.executable, "-m", "inorder", *map(str, args)],
                             env=env["env"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                             pass_fds=pass_fds, preexec_fn=preexec_fn, stdin=stdin)
        procs.append(p)
        return p
    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for pipe in (p.stdout, p.stderr):
            pipe.close()


@pytest.fixture
def name():
    """A unique guest name: finds (or proves absent) this test's QEMU."""
    return "iqtest-" + uuid.uuid4().hex[:12]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raw_connect(address, timeout=30.0) -> socket.socket:
    """Connect, retrying while the socket does not exist yet."""
    family = socket.AF_UNIX if isinstance(address, (str, Path)) else socket.AF_INET
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(family)
        try:
            s.connect(str(address) if family == socket.AF_UNIX else address)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def read_until(s: socket.socket, marker: bytes, timeout=30.0) -> bytes:
    s.settimeout(timeout)
    buf = b""
    while marker not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError(buf)
        buf += chunk
    return buf


def qemu_pids(name: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"guest={name}"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.fixture
def sockdir():
    """A short directory for sockets (108-byte limit)."""
    d = Path(f"/tmp/iq-{uuid.uuid4().hex[:8]}")
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def qcow2(tmp_path):
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    return path


def script(path: Path, *lines: str, common: bool = True) -> Path:
    body = list(COMMON) + list(lines) if common else list(lines)
    path.write_text("\n".join(body) + "\n")
    return path


class Monitor:
    """A synchronous QMP client for tests (qemu.qmp underneath)."""

    def __init__(self, path, timeout=20.0):
        from qemu.qmp import QMPClient
        self.loop = asyncio.new_event_loop()
        self.client = QMPClient("test")
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.loop.run_until_complete(self.client.connect(path if isinstance(path, tuple) else str(path)))
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.loop.close()          # its self-pipe: no fd left behind
                    raise
                time.sleep(0.05)

    def __call__(self, cmd, **args):
        return self.loop.run_until_complete(self.client.execute(cmd, args or None))

    def hmp(self, line):
        return self("human-monitor-command", **{"command-line": line})

    def quit(self):
        try:
            self("quit")
        except Exception:
            pass
        self.close()

    def close(self):
        try:
            self.loop.run_until_complete(self.client.disconnect())
        except Exception:
            pass
        self.loop.close()


def wait_gone(name: str, timeout=15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not qemu_pids(name):
            return True
        time.sleep(0.05)
    return False


def wait_fed(proc, steps: int, timeout=60.0) -> None:
    """Wait until inorder-qemu, run with -v, has sent `steps` QMP steps: an
    event of the feed itself, not a guess at how long it takes."""
    deadline = time.monotonic() + timeout
    sent = 0
    said: list[str] = []             # what it printed besides the steps, for the failure
    while sent < steps:
        assert time.monotonic() < deadline, "the feed did not get that far"
        line = proc.stderr.readline()
        assert line, f"inorder-qemu ended after {sent} steps, saying: {''.join(said[-30:])}"
        if "] -> " in line:
            sent += 1
        else:
            said.append(line)


def wait_exit(proc, timeout=30):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err
