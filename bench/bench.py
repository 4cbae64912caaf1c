#!/usr/bin/env python3
"""inorder-qemu against bare QEMU, side by side in one run.

    .venv/bin/python bench/bench.py            # the full run (about a minute)
    .venv/bin/python bench/bench.py --quick    # CI's smoke run: small sizes

Prints a Markdown table: medians, and ratios to bare QEMU measured in the same
run, the variants interleaved (these machines are noisy: compare ratios, not
absolute times).

1. time to running: from spawn until a QMP client sees "running" with the
   configuration complete, for bare qemu-system-x86_64 and, with the
   equivalent script or argv, inorder-qemu's exec path (a plan that needs no
   feed: small, ~100 devices), its feed path (the same with one QMP command),
   the drop-in, and the cold first run of the small script (no kept plan);
   inorder-qemu's share broken down from its INORDER_TIMINGS marks; and the
   floor of the exec path: the same interpreter exec'ing QEMU at once;
2. the interpreter's own start, the floor of any Python front end:
   `python -c pass`, and with `-S` (no site: what the venv costs); and what
   the exec path adds to that floor, without QEMU's noise: many rounds with
   a stand-in for QEMU that exits at once, exec'd by inorder-qemu from its
   record and by the bare interpreter;
3. feed cost per command: 1,000 QMP commands fed by inorder-qemu versus a
   plain sequential raw-socket client sending the same commands;
4. parse + plan throughput (10,000 lines) and `--check` of 100 lines;
5. peak RSS of inorder-qemu while feeding, and RSS while supervising.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QEMU = shutil.which("qemu-system-x86_64")
# the console script, as users run it
INORDER = [str(Path(sys.executable).parent / "inorder-qemu")]
# the floor under any Python front end: this interpreter, exec'ing the
# command that follows at once
EXEC_AT_ONCE = [sys.executable, "-c", "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"]
COMMON = ["-accel tcg", "-display none", "-nodefaults"]
SET = "qom-set path=/machine property=dump-guest-core value=true"
# one QMP command: the same VM, now through the feed
FED = "qom-set path=/machine property=dump-guest-core value=false"


# -- scripts ----------------------------------------------------------------

def small(sock: str) -> list[str]:
    return ["-machine q35", *COMMON, "-m 256M",
            "-netdev user,id=n0", "-device virtio-net-pci,netdev=n0,id=nic0",
            "-object iothread,id=io0", "-device virtio-rng-pci,id=rng0",
            f"-qmp unix:{sock},server=on,wait=off"]


def large(sock: str, groups: int = 24) -> list[str]:
    """q35 with 2*groups root ports (multifunction), a virtio-blk on a block
    node and a virtio-net on a netdev behind them: 4*groups devices."""
    lines = ["-machine q35", *COMMON, "-m 512M", "-smp 2"]
    for g in range(groups):
        slot, fn = 2 + (2 * g) // 8, (2 * g) % 8
        for k in range(2):
            mf = ",multifunction=on" if fn + k == 0 else ""
            lines.append(f"-device pcie-root-port,id=rp{g}_{k},chassis={1 + 2 * g + k},"
                         f"addr={slot:#x}.{fn + k}{mf}")
        lines.append(f"-blockdev driver=null-co,node-name=blk{g},size=67108864")
        lines.append(f"-device virtio-blk-pci,drive=blk{g},bus=rp{g}_0,id=disk{g}")
        lines.append(f"-netdev user,id=net{g}")
        lines.append(f"-device virtio-net-pci,netdev=net{g},bus=rp{g}_1,id=nic{g}")
    lines.append(f"-qmp unix:{sock},server=on,wait=off")
    return lines


def to_argv(lines: list[str]) -> list[str]:
    argv = []
    for line in lines:
        if line.startswith("-"):
            argv.extend(line.split(" ", 1))
    return argv


# -- measuring --------------------------------------------------------------

def qmp_lines(s: socket.socket):
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        yield json.loads(line)


def until_running(sock: str, start: float, timeout: float = 60) -> float:
    """Seconds from `start` until QEMU answers query-status with running."""
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX)
    while True:
        try:
            s.connect(sock)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(sock)
            time.sleep(0.0005)
    msgs = qmp_lines(s)
    next(msgs)
    s.sendall(b'{"execute": "qmp_capabilities"}\n')
    _reply(msgs)
    while True:
        s.sendall(b'{"execute": "query-status"}\n')
        if _reply(msgs)["status"] == "running":
            elapsed = time.time() - start
            break
    s.sendall(b'{"execute": "quit"}\n')
    _reply(msgs)
    s.close()
    return elapsed


def _reply(msgs):
    for msg in msgs:
        if "return" in msg:
            return msg["return"]
        if "error" in msg:
            raise RuntimeError(msg["error"])
    raise EOFError


def run_to_running(cmd: list[str], sock: str, env=None) -> tuple[float, dict]:
    if os.path.exists(sock):
        os.unlink(sock)
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = until_running(sock, start)
    return elapsed, _marks(proc, start)


def _marks(proc, start: float) -> dict:
    """inorder-qemu's INORDER_TIMINGS marks, once it has exited."""
    _, err = proc.communicate(timeout=60)
    marks = {}
    for line in err.decode(errors="replace").splitlines():
        if line.startswith("inorder-timings "):
            marks = json.loads(line.split(" ", 1)[1])
    marks["start"] = start
    return marks


# inorder-qemu's marks (timing.py), in order, and what lies between them
SHARES = (("interpreter, imports, options", "start", "main"),
          ("warm start: the record and its checks", "main", "record"),
          ("profile of the binary (cached)", "main", "profile"),
          ("plan: kept, or parsed and planned", "profile", "plan"),
          ("checks, then exec", "plan", "exec"),
          ("sockets, watchdog, spawn", "plan", "spawn"),
          ("spawn to QMP greeting", "spawn", "greeting"),
          ("feed", "greeting", "fed"), ("release", "fed", "released"))


def start_times(runs: int, tmp: Path, env, quick: bool) -> dict[str, dict]:
    """Every variant once per round, `runs` rounds: the medians, and the
    median of each share of inorder-qemu's time."""
    sock = str(tmp / "b.sock")
    small_lines = small(sock)
    large_lines = large(sock, 3 if quick else 24)
    scripts = {}
    for name, lines in (("small", small_lines), ("small-fed", small_lines + [FED]),
                        ("large", large_lines), ("large-fed", large_lines + [FED])):
        scripts[name] = tmp / f"{name}.qcmd"
        scripts[name].write_text("\n".join(lines) + "\n")
    drop_in = tmp / "bin" / "qemu-system-x86_64"
    drop_in.parent.mkdir(exist_ok=True)
    drop_in.symlink_to(INORDER[0])
    drop_env = dict(env, PATH=f"{drop_in.parent}:{os.environ['PATH']}")
    drop_env.pop("INORDER_QEMU")
    # its own cache: the profile stays, the plan goes before each run
    cold_env = dict(env, INORDER_CACHE=str(tmp / "cold-cache"))
    plans = tmp / "cold-cache" / "plans"

    def cold():
        shutil.rmtree(plans, ignore_errors=True)

    variants = {   # name: (command, env, before, what it is compared with)
        "bare QEMU, small": ([QEMU, *to_argv(small_lines)], None, None, None),
        "bare QEMU, large": ([QEMU, *to_argv(large_lines)], None, None, None),
        "python execs QEMU at once, small": (
            [*EXEC_AT_ONCE, QEMU, *to_argv(small_lines)], None, None, "bare QEMU, small"),
        "exec path, small": ([*INORDER, str(scripts["small"])], env, None, "bare QEMU, small"),
        "exec path, large": ([*INORDER, str(scripts["large"])], env, None, "bare QEMU, large"),
        "feed path, small": ([*INORDER, str(scripts["small-fed"])], env, None,
                             "bare QEMU, small"),
        "feed path, large": ([*INORDER, str(scripts["large-fed"])], env, None,
                             "bare QEMU, large"),
        "drop-in, small": ([str(drop_in), *to_argv(small_lines)], drop_env, None,
                           "bare QEMU, small"),
        "cold first run, small": ([*INORDER, str(scripts["small"])], cold_env, cold,
                                  "bare QEMU, small"),
    }
    for command, e, _, _ in variants.values():     # keep each plan (and warm the page cache)
        run_to_running(command, sock, e)
    seen: dict[str, list] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (command, e, before, _) in variants.items():
            if before:
                before()
            seen[name].append(run_to_running(command, sock, e))
    out = {}
    for name, (_, _, _, versus) in variants.items():
        times = [t for t, _ in seen[name]]
        shares = {}
        for label, a, z in SHARES:
            values = [m[z] - m[a] for _, m in seen[name] if a in m and z in m]
            if values:
                shares[label] = statistics.median(values)
        out[name] = {"median": statistics.median(times), "versus": versus, "shares": shares}
    for r in out.values():
        if r["versus"]:
            r["ratio"] = r["median"] / out[r["versus"]]["median"]
    out["lines"] = {"small": len(small_lines), "large": len(large_lines)}
    return out


def start_to_exit(commands: dict[str, list], runs: int, env=None) -> dict[str, float]:
    """Each command once per round, `runs` rounds, spawn to exit: the
    medians, in seconds."""
    seen: dict[str, list] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            t = time.perf_counter()
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
            seen[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in seen.items()}


def interpreter(runs: int) -> dict[str, float]:
    """The interpreter's own start, to exit: the floor under any start."""
    commands = {"python -c pass": [sys.executable, "-c", "pass"],
                "python -S -c pass (no site)": [sys.executable, "-S", "-c", "pass"],
                "inorder-qemu --version": [*INORDER, "--version"]}
    return start_to_exit(commands, runs)


def warm_overhead(runs: int, tmp: Path, env) -> dict[str, float]:
    """Spawn to exit, the exec path of a small script against the
    interpreter exec'ing at once, both exec'ing a stand-in for QEMU that
    exits at once: what inorder-qemu's warm start adds to the floor, with
    nothing of QEMU's start in the figure (the medians, in seconds)."""
    stand_in = tmp / "stand-in" / "qemu-system-x86_64"
    stand_in.parent.mkdir()
    # QEMU itself when probed (the profile is the real binary's), gone at
    # once when IQB_EXIT is set
    stand_in.write_text(f'#!/bin/sh\n[ -n "$IQB_EXIT" ] && exit 0\nexec {QEMU} "$@"\n')
    stand_in.chmod(0o755)
    script = tmp / "stand-in.qcmd"
    script.write_text("\n".join(small(str(tmp / "s.sock"))) + "\n")
    e = dict(env, INORDER_QEMU=str(stand_in))
    e.pop("INORDER_TIMINGS")
    subprocess.run([*INORDER, "--check", str(script)], env=e, check=True)   # the probe
    e["IQB_EXIT"] = "1"
    subprocess.run([*INORDER, str(script)], env=e, check=True)              # the record
    warm = subprocess.run([*INORDER, str(script)], env=dict(e, INORDER_TIMINGS="1"),
                          check=True, capture_output=True, text=True)
    if '"record"' not in warm.stderr:
        raise SystemExit(f"bench: the stand-in's script did not start warm: {warm.stderr}")
    commands = {"exec path": [*INORDER, str(script)],
                "floor": [*EXEC_AT_ONCE, str(stand_in)]}
    return start_to_exit(commands, runs, e)


def feed_cost(n: int, runs: int, tmp: Path, env) -> dict:
    sock = str(tmp / "f.sock")
    script = tmp / "feed.qcmd"
    script.write_text("\n".join([*COMMON, "-m 128M", "-S", f"-qmp unix:{sock},server=on,wait=off",
                                 *[SET] * n]) + "\n")
    ours, raw = [], []
    for _ in range(runs):
        _, marks = run_to_running_stopped([*INORDER, str(script)], sock, env)
        ours.append((marks["fed"] - marks["greeting"]) / n)
        raw.append(raw_client(n, tmp))
    o, r = statistics.median(ours), statistics.median(raw)
    return {"n": n, "inorder": o, "raw": r, "ratio": o / r}


def run_to_running_stopped(cmd, sock, env):
    """Run an -S script to its release, then quit it through its monitor."""
    if os.path.exists(sock):
        os.unlink(sock)
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    s = _connect(sock)
    msgs = qmp_lines(s)
    next(msgs)
    s.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n')
    _reply(msgs)
    _reply(msgs)
    s.close()
    return time.time() - start, _marks(proc, start)


def _connect(sock: str) -> socket.socket:
    deadline = time.monotonic() + 60
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sock)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.001)


def raw_client(n: int, tmp: Path) -> float:
    """A plain sequential QMP client on a raw socket: seconds per command."""
    a, b = socket.socketpair()
    proc = subprocess.Popen([QEMU, *to_argv(COMMON), "-m", "128M", "-S",
                             "-chardev", f"socket,id=m,fd={b.fileno()}",
                             "-mon", "chardev=m,mode=control"],
                            pass_fds=[b.fileno()], stdout=subprocess.DEVNULL)
    b.close()
    msgs = qmp_lines(a)
    next(msgs)
    a.sendall(b'{"execute": "qmp_capabilities"}\n')
    _reply(msgs)
    cmd = json.dumps({"execute": "qom-set", "arguments": {
        "path": "/machine", "property": "dump-guest-core", "value": True}}).encode() + b"\n"
    t = time.perf_counter()
    for _ in range(n):
        a.sendall(cmd)
        _reply(msgs)
    per = (time.perf_counter() - t) / n
    a.sendall(b'{"execute": "quit"}\n')
    proc.wait()
    a.close()
    return per


def parse_plan(n: int, runs: int, tmp: Path) -> dict:
    script = tmp / "big.qcmd"
    body = [*COMMON, "-m 128M"]
    i = 0
    while len(body) < n:
        body += [f"-object iothread,id=io{i}", f"-netdev user,id=n{i}",
                 f"-device virtio-net-pci,netdev=n{i},id=nic{i}",
                 f'-device {{"driver": "virtio-rng-pci", "id": "rng{i}"}}', SET]
        i += 1
    script.write_text("\n".join(body[:n]) + "\n")
    code = ("import sys, time\n"
            "from inorder.qemu import profile\n"
            "from inorder.lang import grammar, parse\n"
            "from inorder.plan.planner import plan\n"
            "p = profile.load('qemu-system-x86_64')\n"
            "grammar.parser()\n"
            "t = time.perf_counter()\n"
            "cmds = parse.parse_file(sys.argv[1])\n"
            "plan(cmds, p)\n"
            "print(time.perf_counter() - t)\n")
    times = [float(subprocess.run([sys.executable, "-c", code, str(script)], check=True,
                                  capture_output=True, text=True, cwd=ROOT).stdout)
             for _ in range(runs)]
    t = statistics.median(times)
    return {"lines": n, "seconds": t, "lines_per_s": n / t}


def check_time(runs: int, tmp: Path, env) -> dict:
    script = tmp / "check.qcmd"
    body = [*COMMON, "-machine q35", "-m 256M"]
    i = 0
    while len(body) < 100:
        body += [f"-netdev user,id=n{i}", f"-device virtio-net-pci,netdev=n{i},id=nic{i}",
                 f"-object iothread,id=io{i}"]
        i += 1
    script.write_text("\n".join(body[:100]) + "\n")
    subprocess.run([*INORDER, "--check", str(script)], check=True, env=env)   # warm the cache
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([*INORDER, "--check", str(script)], check=True, env=env)
        times.append(time.perf_counter() - t)
    return {"seconds": statistics.median(times)}


def cold_probe(runs: int, tmp: Path, env) -> float:
    """`--check` of a one-line script with an empty cache: the probe of a
    fresh binary, end to end (the median, in seconds)."""
    script = tmp / "one.qcmd"
    script.write_text("-nodefaults\n")
    times = []
    for i in range(runs):
        e = dict(env, INORDER_CACHE=str(tmp / f"fresh-{i}"))
        t = time.perf_counter()
        subprocess.run([*INORDER, "--check", str(script)], check=True, env=e)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def memory(tmp: Path, env, n: int) -> dict:
    sock = str(tmp / "m.sock")
    script = tmp / "mem.qcmd"
    script.write_text("\n".join([*COMMON, "-m 128M", f"-qmp unix:{sock},server=on,wait=off",
                                 *[SET] * n]) + "\n")
    if os.path.exists(sock):
        os.unlink(sock)
    proc = subprocess.Popen([*INORDER, str(script)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    s = _connect(sock)
    msgs = qmp_lines(s)
    next(msgs)                                   # released: now supervising
    time.sleep(0.5)
    status = Path(f"/proc/{proc.pid}/status").read_text()
    fields = {l.split(":")[0]: int(l.split()[1]) for l in status.splitlines()
              if l.startswith(("VmHWM", "VmRSS"))}
    s.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n')
    _reply(msgs)
    proc.wait(60)
    return {"peak_mib": fields["VmHWM"] / 1024, "supervising_mib": fields["VmRSS"] / 1024}


# -- report -----------------------------------------------------------------

def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one run (CI smoke)")
    ap.add_argument("--runs", type=int, default=None)
    args = ap.parse_args()
    runs = args.runs or (1 if args.quick else 11)
    if not QEMU:
        print("bench: qemu-system-x86_64 not found", file=sys.stderr)
        return 1
    env = dict(os.environ, INORDER_TIMINGS="1", INORDER_QEMU=QEMU)
    with tempfile.TemporaryDirectory(prefix="iqb-", dir="/tmp") as d:
        tmp = Path(d)
        env["INORDER_CACHE"] = str(tmp / "cache")
        probe = tmp / "probe.qcmd"
        probe.write_text("-nodefaults\n")
        subprocess.run([*INORDER, "--check", str(probe)], env=env, check=True)   # probe once
        out = ["| measure | median | compared with | ratio |", "|---|---|---|---|"]
        r = start_times(runs, tmp, env, args.quick)
        lines = r.pop("lines")
        for name, v in r.items():
            size = lines["large" if "large" in name else "small"]
            versus = f"{v['versus']} ({ms(r[v['versus']]['median'])})" if v["versus"] else ""
            ratio = f"{v['ratio']:.2f}x" if v["versus"] else ""
            out.append(f"| time to running: {name} ({size} lines) | {ms(v['median'])} "
                       f"| {versus} | {ratio} |")
            for label, share in v["shares"].items():
                out.append(f"| &nbsp;&nbsp;{label} | {ms(share)} | | |")
        floor = interpreter(runs)
        for name, t in floor.items():
            out.append(f"| start to exit: `{name}` | {ms(t)} | | |")
        rounds = 3 if args.quick else 101
        w = warm_overhead(rounds, tmp, env)
        out.append(f"| start to exit, QEMU a stand-in that exits at once ({rounds} rounds): "
                   f"exec path, small | {ms(w['exec path'])} | python execs it at once ({ms(w['floor'])}) "
                   f"| {w['exec path'] / w['floor']:.2f}x |")
        out.append(f"| &nbsp;&nbsp;the warm start's cost above the floor "
                   f"| {ms(w['exec path'] - w['floor'])} | | |")
        n = 50 if args.quick else 1000
        f = feed_cost(n, 1 if args.quick else 5, tmp, env)
        out.append(f"| feed, per command ({n} qom-set) | {f['inorder'] * 1e6:.0f} us "
                   f"| {f['raw'] * 1e6:.0f} us | {f['ratio']:.2f}x |")
        p = parse_plan(500 if args.quick else 10000, 1 if args.quick else 3, tmp)
        out.append(f"| parse + plan, {p['lines']} lines | {p['lines_per_s']:,.0f} lines/s | | |")
        c = check_time(runs, tmp, env)
        out.append(f"| `--check`, 100 lines, warm cache (whole process) | {ms(c['seconds'])} | | |")
        out.append(f"| cold probe of a fresh binary (`--check`, empty cache) "
                   f"| {ms(cold_probe(1 if args.quick else 5, tmp, env))} | | |")
        m = memory(tmp, env, 50 if args.quick else 1000)
        out.append(f"| RSS peak while feeding | {m['peak_mib']:.1f} MiB | | |")
        out.append(f"| RSS while supervising | {m['supervising_mib']:.1f} MiB | | |")
    print(f"QEMU {subprocess.run([QEMU, '--version'], capture_output=True, text=True).stdout.split()[3]}, "
          f"{os.cpu_count()} cores, medians of {runs} runs\n")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
