"""Bad input: a located error, exit 1, and no QEMU started."""

from __future__ import annotations

import json

import os

import pytest

from conftest import qemu_pids, qemu_version, script

CASES = {
    "forward reference": (
        ["-device virtio-net-pci,netdev=n1", "-netdev user,id=n1"],
        "vm.qcmd:4:31: error: netdev 'n1' is used before it is defined",
        "vm.qcmd:5:1: note: 'n1' is defined here; move that line above line 4"),
    "never defined": (
        ["-device virtio-blk-pci,drive=nope"],
        "vm.qcmd:4:30: error: block 'nope' is used before it is defined", None),
    "duplicate id": (
        ["-netdev user,id=n0", "-netdev user,id=n0"],
        "vm.qcmd:5:17: error: netdev 'n0' is already defined",
        "vm.qcmd:4:17: note: first defined here"),
    "duplicate across forms": (
        ["-object memory-backend-ram,id=m0,size=1M", 'object-add {"qom-type": "iothread", "id": "m0"}'],
        "vm.qcmd:5:12: error: object 'm0' is already defined", "vm.qcmd:4:31: note: first defined here"),
    "id syntax": (
        ["-object iothread,id=io_0,", "-object iothread,id=0io"],
        "vm.qcmd:5:21: error: invalid object id '0io'", None),
    "malformed key=value": (
        ["-blockdev driver=file,filename"],
        "vm.qcmd:4:23: error: malformed option argument: expected '=' after parameter 'filename'", None),
    "malformed JSON": (
        ['-object {"qom-type": "iothread" "id": "io0"}'],
        "vm.qcmd:4:33: error: malformed JSON: Expecting ',' delimiter", None),
    "unknown option": (
        ["-frobnicate 1"], "vm.qcmd:4:1: error: unknown option '-frobnicate'", None),
    "unknown command": (
        ["query-frobs"], "vm.qcmd:4:1: error: unknown QMP command 'query-frobs'", None),
    "argv-only after launch": (
        ["-m 256M", "qom-set path=/machine property=memory-backend value=m0", "-smp 2"],
        "vm.qcmd:6:1: error: '-smp' can only be given on QEMU's command line",
        "vm.qcmd:5:1: note: phase preconfig was entered here"),
    "phase passed": (
        ["cont", "-numa node,nodeid=0"],
        "vm.qcmd:5:1: error: '-numa' is allowed up to phase preconfig, but the machine is already in phase running",
        "vm.qcmd:4:1: note: phase running was entered here, by 'cont'"),
    "missing argument": (["-m"], "vm.qcmd:4:1: error: option '-m' requires an argument", None),
    "unexpected argument": (["-S now"], "vm.qcmd:4:4: error: option '-S' takes no argument", None),
    "two options on a line": (
        ["-S -nodefaults"], "vm.qcmd:4:4: error: option '-S' takes no argument", None),
    "syntax": (["-m 1G 2G"], "vm.qcmd:4:7: error: unexpected '2G'", None),
    "raw QMP without execute": (
        ['{"arguments": {}}'], "vm.qcmd:4:1: error: a JSON line must be a QMP command", None),
    "bad qmp-shell word": (
        ["qom-list /machine"], "vm.qcmd:4:10: error: expected KEY=VALUE", None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_error_is_located_and_nothing_starts(case, iq, tmp_path, launches):
    lines, message, note = CASES[case]
    vm = script(tmp_path / "vm.qcmd", *lines)
    r = iq(vm)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr
    if note:
        assert note in r.stderr
    # the source line and a caret under the culprit
    assert " | " in r.stderr and "^" in r.stderr
    assert "Traceback" not in r.stderr
    assert launches.vms() == []


def test_argv_errors_name_the_index_and_option(iq, launches):
    r = iq("--", "-accel", "tcg", "-device", "virtio-net-pci,netdev=n1", "-netdev", "user,id=n1")
    assert r.returncode == 1
    assert "argv[3]: error: netdev 'n1' is used before it is defined" in r.stderr
    assert "-device virtio-net-pci,netdev=n1" in r.stderr
    assert "argv[4]: note: 'n1' is defined here" in r.stderr
    assert launches.vms() == []


def test_argv_unknown_option_and_missing_argument(iq, launches):
    r = iq("--", "-accel", "tcg", "-bogus")
    assert r.returncode == 1 and "argv[2]: error: unknown option '-bogus'" in r.stderr
    r = iq("--", "-accel", "tcg", "-m")
    assert r.returncode == 1 and "argv[2]: error: option '-m' requires an argument" in r.stderr
    assert launches.vms() == []


def test_usage_errors_exit_2(iq):
    r = iq()
    assert r.returncode == 2 and "no script given" in r.stderr
    r = iq("--no-such-flag", "x.qcmd")
    assert r.returncode == 2
    r = iq("--json", "x.qcmd")
    assert r.returncode == 2 and "--json goes with --dry-run" in r.stderr


def test_missing_file_is_an_error_not_a_traceback(iq):
    r = iq("nope.qcmd")
    assert r.returncode == 1
    assert "cannot read nope.qcmd" in r.stderr and "Traceback" not in r.stderr


def test_monitor_path_that_is_not_a_socket_is_never_replaced(iq, tmp_path, launches):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    vm = script(tmp_path / "vm.qcmd", f"-qmp unix:{victim},server=on,wait=off")
    r = iq(vm)
    assert r.returncode == 1
    assert "exists and is not a socket" in r.stderr
    assert victim.read_text() == "keep me"
    assert launches.vms() == []


@pytest.mark.parametrize("device, after", [
    # a QMP line after it, the device on argv: the supervisor blames it
    ("-device virtio-net-pci,netdev=n0,bus=nowhere.0",
     ["qom-set path=/machine property=dump-guest-core value=true"]),
    # a QMP line after it: the device is realized at x-exit-preconfig
    ('-device {"driver": "virtio-net-pci", "netdev": "n0", "bus": "nowhere.0"}',
     ["qom-set path=/machine property=dump-guest-core value=true"])])
def test_what_qemu_refuses_at_launch_is_located_at_its_line(device, after, iq, tmp_path,
                                                           sockdir, name):
    # QEMU's refusal names the option, and the error goes to that option's line
    sock = sockdir / "m.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off", "-netdev user,id=n0", device, *after)
    r = iq(vm)
    assert r.returncode == 1
    assert "vm.qcmd:8:1: error: QEMU refused '-device': Bus 'nowhere.0' not found\n" in r.stderr
    assert f" 8 | {device}" in r.stderr
    assert not qemu_pids(name) and os.listdir(sockdir) == []


def test_an_execd_plan_shows_qemus_own_refusal(iq, tmp_path, sockdir, name):
    # nothing needs the feed: inorder-qemu became QEMU, whose own message
    # (naming the option as written) and status are what the caller gets
    sock = sockdir / "m.sock"
    device = "-device virtio-net-pci,netdev=n0,bus=nowhere.0"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-m 128M",
                f"-qmp unix:{sock},server=on,wait=off", "-netdev user,id=n0", device)
    r = iq(vm)
    assert r.returncode == 1
    assert f"qemu-system-x86_64: {device}: Bus 'nowhere.0' not found" in r.stderr, r.stderr
    # QEMU's own way, as without inorder-qemu: no process, but its socket
    # file stays (README, Supervision: what exec gives up)
    assert not qemu_pids(name) and os.listdir(sockdir) == ["m.sock"]
    (sockdir / "m.sock").unlink()


def test_probe_describes_the_binary(iq):
    r = iq("--probe")
    assert r.returncode == 0, r.stderr
    assert f"QEMU {qemu_version()}" in r.stdout and "q35" in r.stdout and "tcg" in r.stdout
    r = iq("--probe", "--json")
    data = json.loads(r.stdout)
    assert "virtio-net-pci" in data["devices"] and data["machines"]["q35"].startswith("pc-q35")
