"""Phases that do not move, monitors held until the end, signals, exit status,
the binary's profile."""

from __future__ import annotations

import json
import os
import signal

import pytest

from conftest import Monitor, qemu_pids, script, wait_exit, wait_fed, wait_gone


def plan_of(iq, vm, *flags):
    r = iq("--dry-run", "--json", *flags, vm)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_command_that_may_run_now_never_advances_the_phase(iq, tmp_path):
    # -object is created over QMP in preconfig (with --feed), yet -m after it
    # is fine: nothing -m does depends on the object.
    vm = script(tmp_path / "vm.qcmd", "-object iothread,id=io0", "-m 256M",
                "-device virtio-rng-pci", "-smp 1")
    plan = plan_of(iq, vm, "--feed")
    assert [(s["channel"], s.get("execute") or s["argv"][0]) for s in plan["steps"]][3:] == [
        ("qmp", "object-add"), ("argv", "-m"), ("argv", "-device"), ("argv", "-smp"),
        ("qmp", "x-exit-preconfig"), ("qmp", "cont")]


def test_end_phase_follows_S_and_preconfig(iq, tmp_path):
    assert plan_of(iq, script(tmp_path / "a.qcmd", "-S"))["final-phase"] == "machine-ready"
    b = script(tmp_path / "b.qcmd", "--preconfig", "-object iothread,id=io0")
    p = plan_of(iq, b, "--feed")
    assert p["final-phase"] == "preconfig" and p["preconfig"] is True
    assert [s.get("execute") for s in p["steps"] if s["channel"] == "qmp"] == ["object-add"]
    # without --feed the object rides on argv: QEMU creates it before the pause
    p = plan_of(iq, b)
    assert p["final-phase"] == "preconfig" and p["preconfig"] is True
    assert [s for s in p["steps"] if s["channel"] == "qmp"] == []
    # nothing needs preconfig: QEMU starts straight in machine-ready
    p = plan_of(iq, script(tmp_path / "c.qcmd", "-m 256M"))
    assert p["preconfig"] is False
    assert [s.get("execute") for s in p["steps"] if s["channel"] == "qmp"] == ["cont"]


def test_S_leaves_the_vm_in_machine_ready(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "m.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-S", "-object iothread,id=io0",
                f"-qmp unix:{sock},server=on,wait=off")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        assert mon("query-status")["status"] == "prelaunch"
        mon("query-target")          # refused in preconfig: this is machine-ready
        assert mon("qom-get", path="/objects/io0", property="type") == "iothread"
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


def test_chardev_and_mon_monitor_is_held_until_the_end(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "c.sock"
    lines = ["-machine pc", f"-name guest={name}", "-m 256M",
             f"-chardev socket,id=mon0,path={sock},server=on,wait=off",
             "-mon chardev=mon0,mode=control"]
    # enough commands that the feed takes a while; the last one sets a mark
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 400
    lines += ["qom-set path=/machine property=dump-guest-core value=false"]
    vm = script(tmp_path / "vm.qcmd", *lines)
    proc = iq_bg(vm)
    # connecting at once (retrying until the socket exists), the first
    # answer already sees the mark
    mon = Monitor(sock)
    try:
        assert mon("qom-get", path="/machine", property="dump-guest-core") is False
        assert mon("query-status")["status"] == "running"
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
    assert not sock.exists()
    assert os.listdir(sockdir) == []


def test_sigterm_after_release_stops_qemu_and_returns_its_status(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "m.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 256M",
                f"-qmp unix:{sock},server=on,wait=off")
    proc = iq_bg(vm)
    Monitor(sock).close()             # released: the VM is running
    proc.send_signal(signal.SIGTERM)
    rc, _, err = wait_exit(proc)
    assert rc == 0, err               # QEMU exits 0 on SIGTERM
    assert "terminating on signal 15" in err
    assert wait_gone(name)
    assert os.listdir(sockdir) == []


@pytest.mark.parametrize("fed", [False, True], ids=["exec", "supervised"])
def test_exit_status_is_qemus(fed, iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "m.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 256M",
                f"-qmp unix:{sock},server=on,wait=off",
                *(["qom-set path=/machine property=dump-guest-core value=true"] if fed else []))
    proc = iq_bg(vm)
    Monitor(sock).close()
    [pid] = qemu_pids(name)
    assert (pid == proc.pid) is not fed          # exec'd: the process is QEMU
    os.kill(pid, signal.SIGKILL)
    rc, _, _ = wait_exit(proc)
    # exec'd, QEMU's own death; supervised, a shell's view of it
    assert rc == (128 + signal.SIGKILL if fed else -signal.SIGKILL)


def test_sigterm_during_the_feed_stops_qemu_cleanly(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "m.sock"
    lines = [f"-name guest={name}", "-m 256M", f"-qmp unix:{sock},server=on,wait=off"]
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 20000
    vm = script(tmp_path / "vm.qcmd", *lines)
    proc = iq_bg("-v", vm)
    wait_fed(proc, 100)                       # the feed is under way
    proc.send_signal(signal.SIGTERM)
    rc, _, err = wait_exit(proc)
    assert rc == 128 + signal.SIGTERM, err
    assert "error: interrupted by SIGTERM while feeding" in err
    assert wait_gone(name)
    assert os.listdir(sockdir) == []


@pytest.mark.parametrize("burst", [
    [signal.SIGTERM, signal.SIGTERM],
    [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGTERM],
], ids=["two-sigterm", "a-burst"])
def test_more_signals_during_the_feed_end_in_one_clean_shutdown(burst, iq_bg, tmp_path, sockdir,
                                                                name):
    sock = sockdir / "m.sock"
    lines = [f"-name guest={name}", "-m 256M", f"-qmp unix:{sock},server=on,wait=off"]
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 20000
    vm = script(tmp_path / "vm.qcmd", *lines)
    for run in range(5):
        proc = iq_bg("-v", vm)
        wait_fed(proc, 100)
        for sig in burst:
            proc.send_signal(sig)
        rc, _, err = wait_exit(proc)
        # the status of the one that stopped the feed: which one that is, the
        # kernel decides (signals pending together are delivered stacked)
        assert rc in {128 + sig for sig in burst}, err[-2000:]
        assert "Traceback" not in err and "internal error" not in err
        assert f"interrupted by {signal.Signals(rc - 128).name}" in err
        assert wait_gone(name), f"run {run}: QEMU survived"
        assert os.listdir(sockdir) == []


def test_a_stopped_qemu_fails_the_feed_at_its_command_and_is_killed(env, tmp_path, sockdir,
                                                                     name):
    import subprocess
    import sys
    sock = sockdir / "m.sock"
    lines = [f"-name guest={name}", "-m 256M", f"-qmp unix:{sock},server=on,wait=off"]
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 20000
    vm = script(tmp_path / "vm.qcmd", *lines)
    proc = subprocess.Popen([sys.executable, "-m", "inorder", "-v", str(vm)], text=True,
                            env=dict(env["env"], INORDER_COMMAND_TIMEOUT="2"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    wait_fed(proc, 100)
    [pid] = qemu_pids(name)
    os.kill(pid, signal.SIGSTOP)
    rc, _, err = wait_exit(proc, timeout=60)
    assert rc == 1
    assert "QEMU stopped answering: no reply to 'qom-set' within 2 s" in err
    assert "vm.qcmd:" in err and "Traceback" not in err
    assert wait_gone(name)
    assert os.listdir(sockdir) == []


def test_profile_is_probed_once_and_cached_per_binary(env, iq, tmp_path, launches):
    import shutil
    # a copy of the wrapper is another binary: probed on first use
    binary = tmp_path / "qemu-copy"
    shutil.copy(env["wrapper"], binary)
    vm = script(tmp_path / "vm.qcmd", "-m 256M")
    assert iq("--qemu", binary, "--dry-run", vm).returncode == 0
    probes = [a for a in launches.all() if a[:2] == ["-M", "none"]]
    assert len(probes) == 1 and "--preconfig" in probes[0]
    launches.reset()
    assert iq("--qemu", binary, "--dry-run", vm).returncode == 0
    assert launches.all() == [], "a cached profile must not start QEMU"
    os.utime(binary, ns=(0, 0))              # another mtime: probe again
    assert iq("--qemu", binary, "--dry-run", vm).returncode == 0
    assert len([a for a in launches.all() if a[:2] == ["-M", "none"]]) == 1


def test_profile_knows_what_preconfig_allows(env, iq, tmp_path):
    import glob
    # the profile of the test binary, probed now if no test before this one did
    assert iq("--dry-run", script(tmp_path / "vm.qcmd", "-m 256M")).returncode == 0
    cache = env["env"]["INORDER_CACHE"]
    data = [json.load(open(p)) for p in glob.glob(os.path.join(cache, "qemu-logged-*.json"))
            if not p.endswith((".schema.json", ".devices.json"))]
    assert data
    for profile in data:
        assert {"object-add", "blockdev-add", "netdev_add", "set-numa-node", "qom-set",
                "x-exit-preconfig"} <= set(profile["preconfig"])
        assert not {"device_add", "chardev-add", "cont", "query-pci"} & set(profile["preconfig"])
        assert profile["options"]["m"] is True and profile["options"]["S"] is False
        assert profile["version"].count(".") == 2


def test_missing_binary_is_reported(iq, tmp_path):
    r = iq("--qemu", tmp_path / "no-such-qemu", "--dry-run", script(tmp_path / "vm.qcmd", "-m 1G"))
    assert r.returncode == 1
    assert "QEMU binary" in r.stderr and "not found" in r.stderr


def test_devices_keep_script_order_across_syntaxes(iq, tmp_path):
    # QEMU creates key=value -device options before JSON ones: the plan writes
    # them all in one syntax so argv order is script order.
    vm = script(tmp_path / "vm.qcmd", "-machine q35",
                '-device {"driver": "pcie-root-port", "id": "rp1", "chassis": 1, "multifunction": true}',
                "-device pcie-root-port,id=rp2,chassis=2")
    plan = plan_of(iq, vm)
    devices = [s["argv"][1] for s in plan["steps"] if s["channel"] == "argv" and s["argv"][0] == "-device"]
    assert devices == ["driver=pcie-root-port,id=rp1,chassis=1,multifunction=on",
                       "pcie-root-port,id=rp2,chassis=2"]


def test_what_an_argv_item_needs_at_creation_goes_on_argv(iq, iq_bg, tmp_path, sockdir, name):
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 256M",
                "-object iothread,id=io0",
                "-object tls-creds-anon,id=tls0,endpoint=server",
                "-chardev socket,id=c0,host=127.0.0.1,port=0,server=on,wait=off,tls-creds=tls0",
                f"-qmp unix:{sockdir}/m.sock,server=on,wait=off")
    plan = plan_of(iq, vm, "--feed")
    where = {(s.get("execute") or " ".join(s["argv"])): s for s in plan["steps"]}
    tls = where["-object tls-creds-anon,id=tls0,endpoint=server"]
    assert tls["channel"] == "argv" and "needed when QEMU creates" in tls["why"]
    assert where["object-add"]["phase"] == "preconfig"      # io0 stays on QMP
    proc = iq_bg(vm)
    mon = Monitor(sockdir / "m.sock")
    try:
        chardevs = {c["label"]: c["filename"] for c in mon("query-chardev")}
        assert chardevs["c0"].startswith("disconnected:tcp:127.0.0.1")
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


def test_plans_are_kept_until_a_script_or_include_changes(env, tmp_path):
    import subprocess
    import sys
    inc = tmp_path / "inc.qcmd"
    inc.write_text("-netdev user,id=n0\n")
    vm = script(tmp_path / "vm.qcmd", "-m 256M", "include inc.qcmd",
                "-device virtio-net-pci,netdev=n0")
    e = dict(env["env"], INORDER_TIMINGS="1")

    def check():
        r = subprocess.run([sys.executable, "-m", "inorder", "--dry-run", "--json", str(vm)],
                           env=e, capture_output=True, text=True, cwd=tmp_path)
        marks = json.loads(r.stderr.split("inorder-timings ", 1)[1]) if "inorder-timings" in r.stderr else {}
        return r, marks

    r, marks = check()                  # cold: parsed and planned
    assert r.returncode == 0 and "parse" in marks
    r2, marks = check()                 # warm: the kept plan, no parsing
    assert r2.stdout == r.stdout and "parse" not in marks and "plan" in marks
    inc.write_text("-netdev user,id=n1\n")     # same size, same second
    r3, _ = check()
    assert r3.returncode == 1 and "netdev 'n0' is used before it is defined" in r3.stderr


def test_pipelined_feed_reports_the_first_failure_and_changes_nothing_outside(iq, tmp_path, name):
    created = tmp_path / "created-by-qemu"
    lines = [f"-name guest={name}", "-m 128M"]
    lines += ["qom-set path=/machine property=dump-guest-core value=true"] * 100
    # (a path --check does not type: QEMU is the one to refuse it)
    lines += ["qom-set path=/machine/peripheral-anon property=no-such-property value=1"]  # 106
    lines += ["qom-set path=/machine property=dump-guest-core value=false"] * 50
    # not pipeline-safe: it would create a file, so it waits for every answer
    lines += [f"-object memory-backend-file,id=mf,size=1M,share=on,mem-path={created}"]
    lines += ["qom-get path=/machine property=type"] * 50
    vm = script(tmp_path / "vm.qcmd", *lines)
    r = iq(vm)
    assert r.returncode == 1
    assert "vm.qcmd:106:1: error: QEMU refused 'qom-set': Property " \
           "'container.no-such-property' not found" in r.stderr, r.stderr
    assert r.stderr.count("error:") == 1
    assert not created.exists()
    assert wait_gone(name)


@pytest.mark.parametrize("lines, direct", [
    # options only: QEMU builds the same VM from its argv
    (["-object iothread,id=io0", "-netdev user,id=n0",
      "-device virtio-net-pci,netdev=n0", "-numa node,nodeid=0"], True),
    # a QMP command has a place in the order that argv does not have
    (["-m 256M", "qom-set path=/machine property=dump-guest-core value=true"], False),
    # a device after the machine is built is a hot plug
    (["x-exit-preconfig", "-device virtio-rng-pci"], False),
    # a reference against QEMU's own creation order: the early object would
    # be created before the late one it names
    (["-object memory-backend-ram,id=m0,size=64M", "-object secret,id=s0,data=x,keyid=m0"],
     False),
])
def test_a_plan_is_direct_only_when_argv_means_the_same(lines, direct, iq, tmp_path):
    plan = plan_of(iq, script(tmp_path / "vm.qcmd", *lines))
    assert (plan["direct-argv"] is not None) == direct
    if direct:                                  # and its backends ride on argv
        assert [s.get("execute") for s in plan["steps"] if s["channel"] == "qmp"] == ["cont"]
