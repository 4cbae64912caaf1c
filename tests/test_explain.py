"""QEMU's hidden order, shown (--explain) and converted (--to-qcmd), on the
management-tool corpus and on command lines whose written order and QEMU's
differ in effect; each claim checked against QEMU itself."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import QEMU, Monitor, wait_exit
from test_corpus import CASES, LIBVIRT_LOG, corpus, machine, variants


def option_indexes(argv: list[str]) -> list[int]:
    return [i for i, w in enumerate(argv) if w.startswith("-")]


@pytest.mark.parametrize("style", CASES)
def test_to_qcmd_builds_the_machine_qemu_builds(style, iq, iq_bg, tmp_path, sockdir, qcow2):
    argv = {**corpus(sockdir, qcow2), **variants(sockdir, qcow2)}[style]
    # --explain --json: every option of the argv, exactly once, in QEMU's order
    r = iq("--explain", "--json", "--", *argv)
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)
    assert sorted(i["index"] for i in items) == option_indexes(argv)
    assert all(i["option"] == argv[i["index"]][1:] and i["stage"] for i in items)
    # the script, run in order (not QEMU-compatible mode), builds QEMU's machine
    r = iq("--to-qcmd", "--", *argv)
    assert r.returncode == 0, r.stderr
    vm = tmp_path / "vm.qcmd"
    vm.write_text(r.stdout)
    ours = machine(lambda a: iq_bg(vm, *a[len(argv):]), argv, sockdir / "a.sock")
    theirs = machine(lambda a: subprocess.Popen([QEMU, *a], text=True, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE), argv, sockdir / "b.sock")
    assert ours == theirs
    assert len(ours[0][0]["devices"]) >= 3


# A JSON NIC written before a key=value one, each naming a netdev written
# after it; no addr=, one bus
DIFFERENT = ["-accel", "tcg", "-display", "none", "-nodefaults", "-M", "pc", "-m", "128M",
             "-device", '{"driver":"virtio-net-pci","netdev":"n0","id":"nicA"}',
             "-device", "e1000,netdev=n1,id=nicB",
             "-netdev", "user,id=n0", "-netdev", "user,id=n1"]


def slots(argv, sock) -> dict[str, int]:
    proc = subprocess.Popen([QEMU, *argv, "-S", "-qmp", f"unix:{sock},server=on,wait=off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = Monitor(sock)
    try:
        return {d["qdev_id"]: d["slot"] for d in mon("query-pci")[0]["devices"] if d["qdev_id"]}
    finally:
        mon.quit()
        assert wait_exit(proc)[0] == 0


def test_explain_names_a_difference_in_effect_and_its_consequence(iq, sockdir):
    r = iq("--explain", "--", *DIFFERENT)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # the groups, in QEMU's order: netdevs, then key=value devices, then JSON ones
    assert out.index("\nnetdevs:") < out.index("\ndevices:") < out.index("\njson-devices:")
    assert out.index("-device  e1000") < out.index("-device  virtio-net-pci")
    # the difference and its consequence ...
    assert "argv[9]: this JSON -device is written before 1 key=value -device (argv[11]), " \
           "but QEMU creates every key=value -device first" in out
    assert "'nicB' gets the lower slot, not 'nicA'" in out
    # ... which is what QEMU does
    found = slots(DIFFERENT, sockdir / "q.sock")
    assert found["nicB"] < found["nicA"]
    # the forward references QEMU resolves, named with the reason
    assert "argv[9]: names netdev 'n0', which is written further on (argv[13]): QEMU " \
           "creates netdevs before JSON devices, so QEMU accepts it" in out
    assert "argv[11]: names netdev 'n1', which is written further on (argv[15])" in out
    # the script keeps QEMU's device order and defines each netdev first
    r = iq("--to-qcmd", "--", *DIFFERENT)
    lines = [l for l in r.stdout.splitlines() if not l.startswith("#")]
    assert lines.index("-netdev user,id=n1") < lines.index("-device e1000,netdev=n1,id=nicB") \
        < lines.index('-device {"driver":"virtio-net-pci","netdev":"n0","id":"nicA"}')
    assert "# was argv[9]: QEMU creates every JSON -device after every key=value one" in r.stdout
    # and, run in order, it gives the same slots as QEMU given the argv
    assert "\n-netdev user,id=n0\n" in r.stdout


def test_the_script_gives_qemus_slots(iq, iq_bg, tmp_path, sockdir):
    r = iq("--to-qcmd", "--", *DIFFERENT)
    vm = tmp_path / "vm.qcmd"
    vm.write_text(r.stdout)
    sock = sockdir / "s.sock"
    proc = iq_bg(vm, "-S", "-qmp", f"unix:{sock},server=on,wait=off")
    mon = Monitor(sock)
    try:
        ours = {d["qdev_id"]: d["slot"] for d in mon("query-pci")[0]["devices"] if d["qdev_id"]}
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
    assert ours == slots(DIFFERENT, sockdir / "q.sock")


ARGS = """\
LC_ALL=C \\
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin \\
HOME=/var/lib/libvirt/qemu/domain--1-vm1 \\
/usr/bin/qemu-system-x86_64 \\
-name guest=vm1,debug-threads=on \\
-S \\
-machine pc,usb=off \\
-accel tcg \\
-display none \\
-nodefaults \\
-m 128M \\
-device '{"driver":"virtio-net-pci","netdev":"hostnet0","id":"net0"%s}' \\
-netdev '{"type":"user","id":"hostnet0"}' \\
-msg timestamp=on
"""


def test_an_args_file_as_libvirt_writes_it(iq, tmp_path):
    f = tmp_path / "vm.args"
    f.write_text(ARGS % "")
    r = iq("--explain", "--json", f)
    assert r.returncode == 0, r.stderr
    items = {i["location"]: i for i in json.loads(r.stdout)}
    # located in the file, environment and binary aside
    assert items[f"{f}:12:1"]["option"] == "device"
    assert items[f"{f}:12:1"]["stage"] == "json-devices"
    assert items[f"{f}:12:1"]["references"][0]["defined"] == f"{f}:13:1"
    r = iq("--to-qcmd", f)
    assert r.returncode == 0, r.stderr
    assert "# its environment (a script does not set one): LC_ALL=C" in r.stdout
    assert "# was " + f"{f}:13:1: moved above {f}:12:1, which names it" in r.stdout
    # a mistake is located in the file, at the word
    f.write_text(ARGS % ',"bogus":1')
    r = iq("--explain", f)
    assert r.returncode == 1
    assert r.stderr.startswith(f"{f}:12:10: error: 'virtio-net-pci' has no property 'bogus'")
    assert " 12 | -device '{\"driver\"" in r.stderr
    # so is an option the binary does not have
    f.write_text((ARGS % "").replace("-msg timestamp=on", "-msgg timestamp=on"))
    r = iq("--to-qcmd", f)
    assert r.returncode == 1
    assert r.stderr.startswith(f"{f}:14:1: error: unknown option '-msgg'"), r.stderr


def test_what_only_the_host_has_is_kept_and_flagged(iq):
    r = iq("--to-qcmd", "--", *LIBVIRT_LOG)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for word in ("-chardev socket,id=charmonitor,fd=1729", "-add-fd set=0,fd=1730",
                 "-chardev file,id=charserial0,path=/dev/fdset/0"):
        at = next(n for n, l in enumerate(lines) if l.startswith(word))
        assert lines[at - 1].startswith("# host-only: ")


def test_a_command_line_qemu_refuses_is_an_error_at_its_place(iq, qcow2):
    argv = ["-accel", "tcg", "-M", "none", "-display", "none", "-nodefaults",
            "-drive", f"if=none,id=d0,file={qcow2}",
            "-blockdev", "driver=qcow2,file=d0,node-name=q0"]
    qemu = subprocess.run([QEMU, *argv, "-S"], capture_output=True, text=True, timeout=30)
    assert qemu.returncode == 1 and "Cannot find device='d0'" in qemu.stderr
    for mode in ("--explain", "--to-qcmd"):
        r = iq(mode, "--", *argv)
        assert r.returncode == 1
        assert r.stderr.startswith("argv[10]: error: QEMU creates -blockdev qcow2 (argv[9]) "
                                   "before -drive (argv[7]), which it names"), r.stderr
        assert "argv[7]: note: block 'd0' is defined here" in r.stderr


def test_a_script_is_explained_too(iq, tmp_path):
    vm = tmp_path / "vm.qcmd"
    vm.write_text("-machine q35\n-netdev user,id=n0\n-device virtio-net-pci,netdev=n0\n"
                  "-object iothread,id=io0\nqom-get path=/machine property=type\n")
    r = iq("--explain", "--json", vm)
    assert r.returncode == 0, r.stderr
    stages = [(i["location"], i["stage"]) for i in json.loads(r.stdout)]
    assert stages == [(f"{vm}:1:1", "machine"), (f"{vm}:4:1", "early-objects"),
                      (f"{vm}:2:1", "netdevs"), (f"{vm}:3:1", "devices"), (f"{vm}:5:1", "qmp")]
    r = iq("--to-qcmd", vm)
    assert r.returncode == 2 and "is a script already" in r.stderr


def test_a_late_global_and_a_virtio_drive_are_named_and_are_what_qemu_does(iq, sockdir, qcow2):
    argv = ["-accel", "tcg", "-display", "none", "-nodefaults", "-M", "pc", "-m", "128M",
            "-drive", f"if=virtio,file={qcow2},format=qcow2",
            "-device", "virtio-rng-pci,id=rng0",
            "-global", "virtio-rng-pci.max-bytes=4096"]
    r = iq("--explain", "--", *argv)
    assert r.returncode == 0, r.stderr
    assert "argv[9]: the virtio-blk device of this -drive if=virtio is created after every " \
           "key=value -device, argv[11] too" in r.stdout
    assert "argv[13]: this -global is written after argv[11] (virtio-rng-pci), and applies " \
           "to it all the same" in r.stdout
    sock = sockdir / "g.sock"
    proc = subprocess.Popen([QEMU, *argv, "-S", "-qmp", f"unix:{sock},server=on,wait=off"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = Monitor(sock)
    try:
        assert mon("qom-get", path="/machine/peripheral/rng0", property="max-bytes") == 4096
        devices = mon("query-pci")[0]["devices"]
        rng = next(d["slot"] for d in devices if d["qdev_id"] == "rng0")
        blk = next(d["slot"] for d in devices if d["id"]["device"] == 0x1001)
        assert rng < blk                     # the drive's device came after
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0
