"""Command lines as management tools write them (libvirt-, virt-install- and
quickemu-shaped; files replaced by temp images, -accel tcg): each plans, and
fed in order (--feed: backends over QMP in preconfig) it builds the same machine as
QEMU given the same argv: the same query-pci answer and the same QOM device
tree.  (The drop-in name execs QEMU with the argv itself when, as for all of
these, nothing needs the feed: tests/test_entrances.py, tests/test_libvirt.py.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import QEMU, Monitor, wait_exit


def corpus(d, img) -> dict[str, list[str]]:
    return {
        "libvirt": [
            "-name", "guest=vm1,debug-threads=on", "-S", "-no-user-config", "-nodefaults",
            "-machine", "q35,usb=off,dump-guest-core=off", "-accel", "tcg", "-display", "none",
            "-m", "256M", "-overcommit", "mem-lock=off", "-smp", "3,sockets=3,cores=1,threads=1",
            "-numa", "node,nodeid=0,cpus=0,cpus=2,memdev=ram-node0",
            "-object", '{"qom-type":"memory-backend-ram","id":"ram-node0","size":134217728}',
            "-numa", "node,nodeid=1,cpus=1,memdev=ram-node1",
            "-object", '{"qom-type":"memory-backend-ram","id":"ram-node1","size":134217728}',
            "-uuid", "7b2c5a3e-8a4e-4b8e-9a43-0c4e4e1f9f6d", "-rtc", "base=utc",
            "-boot", "strict=on", "-global", "ICH9-LPC.disable_s3=1",
            "-device", '{"driver":"pcie-root-port","port":16,"chassis":1,"id":"pci.1","bus":"pcie.0","multifunction":true,"addr":"0x2"}',
            "-device", '{"driver":"pcie-root-port","port":17,"chassis":2,"id":"pci.2","bus":"pcie.0","addr":"0x2.0x1"}',
            "-blockdev", f'{{"driver":"file","filename":"{img}","node-name":"libvirt-1-storage","read-only":false}}',
            "-blockdev", '{"node-name":"libvirt-1-format","read-only":false,"driver":"qcow2","file":"libvirt-1-storage"}',
            "-device", '{"driver":"virtio-blk-pci","bus":"pci.2","addr":"0x0","drive":"libvirt-1-format","id":"virtio-disk0","bootindex":1}',
            "-netdev", '{"type":"user","id":"hostnet0"}',
            "-device", '{"driver":"virtio-net-pci","netdev":"hostnet0","id":"net0","mac":"52:54:00:aa:bb:cc","bus":"pci.1","addr":"0x0"}',
            "-chardev", f"file,id=charserial0,path={d}/serial.log",
            "-device", '{"driver":"isa-serial","chardev":"charserial0","id":"serial0","index":0}',
            "-msg", "timestamp=on",
            "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        ],
        "virt-install": [
            "-S", "-nodefaults", "-accel", "tcg", "-display", "none",
            "-machine", "pc", "-m", "256", "-smp", "1",
            "-drive", f"file={img},if=none,format=qcow2,id=drive0",
            "-device", "virtio-blk-pci,drive=drive0,id=disk0",
            "-netdev", "user,id=net0", "-device", "e1000,netdev=net0,mac=52:54:00:12:34:56",
            "-device", "virtio-rng-pci", "-usb", "-device", "usb-tablet", "-boot", "menu=on",
        ],
        "quickemu": [
            "-S", "-nodefaults", "-accel", "tcg", "-display", "none", "-vga", "none",
            "-name", "guest,process=guest", "-machine", "q35,smm=off,vmport=off",
            "-smp", "cores=1,threads=1,sockets=1", "-m", "256M",
            "-device", "virtio-rng-pci,rng=rng0",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "qemu-xhci,id=input", "-device", "usb-kbd,bus=input.0",
            "-device", "usb-tablet,bus=input.0",
            "-netdev", "user,hostname=guest,id=nic", "-device", "virtio-net,netdev=nic",
            "-device", "virtio-blk-pci,drive=SystemDisk",
            "-drive", f"id=SystemDisk,if=none,format=qcow2,file={img}",
        ],
    }


MACHINES = ["q35", "pc"]
DISKS = ["virtio-blk-pci", "scsi-hd", "ide-hd"]
NICS = ["virtio-net-pci", "e1000", "rtl8139"]
EXTRAS = [[], ["virtio-balloon-pci"], ["virtio-rng-pci"], ["virtio-balloon-pci", "virtio-rng-pci"]]


def variants(d, img) -> dict[str, list[str]]:
    """Ten command lines of each shape, over machine types, disk buses, NICs
    and extra devices."""
    import itertools
    combos = list(itertools.product(MACHINES, DISKS, NICS))
    out = {}
    for i, (mach, disk, nic) in enumerate(combos[:10]):
        extras = EXTRAS[i % len(EXTRAS)]
        # libvirt: JSON, ids everywhere, the netdev after the NIC that uses it
        a = ["-name", f"guest=lv{i},debug-threads=on", "-S", "-no-user-config", "-nodefaults",
             "-machine", f"{mach},usb=off", "-accel", "tcg", "-display", "none", "-m", "256M",
             "-blockdev", f'{{"driver":"file","filename":"{img}","node-name":"storage0"}}',
             "-blockdev", '{"node-name":"format0","driver":"qcow2","file":"storage0"}']
        if disk == "scsi-hd":
            a += ["-device", '{"driver":"virtio-scsi-pci","id":"scsi0"}',
                  "-device", '{"driver":"scsi-hd","bus":"scsi0.0","drive":"format0","id":"disk0"}']
        elif disk == "ide-hd":
            a += ["-device", '{"driver":"ide-hd","bus":"ide.0","drive":"format0","id":"disk0"}']
        else:
            a += ["-device", '{"driver":"virtio-blk-pci","drive":"format0","id":"disk0"}']
        a += ["-device", f'{{"driver":"{nic}","netdev":"hostnet0","id":"net0"}}',
              "-netdev", '{"type":"user","id":"hostnet0"}']
        a += [w for k, x in enumerate(extras) for w in ("-device", f'{{"driver":"{x}","id":"x{k}"}}')]
        out[f"libvirt-{i}"] = a
        # virt-install / hand-written: -drive, key=value, anonymous devices
        b = ["-S", "-nodefaults", "-accel", "tcg", "-display", "none", "-machine", mach,
             "-m", "256", "-drive", f"file={img},if=none,format=qcow2,id=drive0"]
        if disk == "scsi-hd":
            b += ["-device", "virtio-scsi-pci", "-device", "scsi-hd,drive=drive0"]
        elif disk == "ide-hd":
            b += ["-device", "ide-hd,drive=drive0,bus=ide.0"]
        else:
            b += ["-device", "virtio-blk-pci,drive=drive0"]
        b += ["-netdev", "user,id=net0", "-device", f"{nic},netdev=net0"]
        b += [w for x in extras for w in ("-device", x)]
        out[f"virt-install-{i}"] = b
        # quickemu: the drive after the device that uses it, rng object after its device
        c = ["-S", "-nodefaults", "-accel", "tcg", "-display", "none", "-vga", "none",
             "-name", f"guest{i},process=guest{i}", "-machine", f"{mach},vmport=off",
             "-smp", "cores=1,threads=1,sockets=1", "-m", "256M",
             "-device", "virtio-rng-pci,rng=rng0",
             "-object", "rng-random,id=rng0,filename=/dev/urandom",
             "-netdev", "user,hostname=guest,id=nic", "-device", f"{nic},netdev=nic"]
        if disk == "virtio-blk-pci":
            c += ["-device", "virtio-blk-pci,drive=SystemDisk"]
        elif disk == "scsi-hd":
            c += ["-device", "virtio-scsi-pci,id=scsi", "-device", "scsi-hd,drive=SystemDisk,bus=scsi.0"]
        else:
            c += ["-device", "ide-hd,drive=SystemDisk,bus=ide.1"]
        c += ["-drive", f"id=SystemDisk,if=none,format=qcow2,file={img}"]
        out[f"quickemu-{i}"] = c
    return out


def machine(argv_runner, argv, sock) -> tuple:
    proc = argv_runner(argv + ["-qmp", f"unix:{sock},server=on,wait=off"])
    mon = Monitor(sock)
    try:
        if "-numa" in argv:                 # the repeated cpus= key: a list, as QEMU reads it
            assert "node 0 cpus: 0 2" in mon.hmp("info numa")
        pci = mon("query-pci")
        tree = {}
        for root in ("/machine/peripheral", "/machine/peripheral-anon"):
            tree[root] = sorted((p["name"], p["type"]) for p in mon("qom-list", path=root)
                                if p["type"].startswith("child<"))
    finally:
        mon.quit()
    rc, _, err = wait_exit(proc)
    assert rc == 0, err
    return pci, tree


CASES = ["libvirt", "virt-install", "quickemu"] + [
    f"{shape}-{i}" for i in range(10) for shape in ("libvirt", "virt-install", "quickemu")]


@pytest.mark.parametrize("style", CASES)
def test_corpus_builds_the_machine_qemu_builds(style, env, iq, sockdir, qcow2):
    argv = {**corpus(sockdir, qcow2), **variants(sockdir, qcow2)}[style]
    plan = iq("--qemu-compat", "--dry-run", "--json", "--", *argv)
    assert plan.returncode == 0, plan.stderr
    # the drop-in would exec QEMU with this argv (each of these needs no feed) ...
    assert json.loads(plan.stdout)["direct-argv"]

    def through_the_feed(a):
        # ... so compare what the feed builds: QEMU in preconfig, backends
        # over QMP in order, cold devices on argv
        return subprocess.Popen([sys.executable, "-m", "inorder", "--qemu-compat", "--feed", "--", *a],
                                env=env["env"], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def qemu_itself(a):
        return subprocess.Popen([QEMU, *a], text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    ours = machine(through_the_feed, argv, sockdir / "a.sock")
    theirs = machine(qemu_itself, argv, sockdir / "b.sock")
    assert ours[1] == theirs[1]
    assert ours[0] == theirs[0]
    # the comparison has substance: every device of the command line is there
    named = {n for n, _ in ours[1]["/machine/peripheral"]}
    anonymous = ours[1]["/machine/peripheral-anon"]
    expected = {"libvirt": {"pci.1", "pci.2", "virtio-disk0", "net0", "serial0"},
                "virt-install": {"disk0"}, "quickemu": {"input"}}.get(style)
    if expected is not None:
        assert expected <= named
    elif style.startswith("libvirt"):
        assert {"disk0", "net0"} <= named
    else:
        assert len(anonymous) >= 2
    assert len(ours[0][0]["devices"]) >= 3


# As libvirt's domain log shows it: fds that are open only in libvirt's child
LIBVIRT_LOG = [
    "-name", "guest=vm1,debug-threads=on", "-S", "-no-user-config", "-nodefaults",
    "-machine", "q35,usb=off,dump-guest-core=off", "-accel", "tcg", "-display", "none",
    "-m", "256M", "-chardev", "socket,id=charmonitor,fd=1729,server=on,wait=off",
    "-mon", "chardev=charmonitor,id=monitor,mode=control",
    "-add-fd", "set=0,fd=1730,opaque=serial0-source",
    "-chardev", "file,id=charserial0,path=/dev/fdset/0,append=on",
    "-device", '{"driver":"isa-serial","chardev":"charserial0","id":"serial0","index":0}',
    "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-msg", "timestamp=on",
]


@pytest.mark.parametrize("mode", ["--dry-run", "--check"])
def test_an_argv_from_a_log_plans_with_its_fds_closed(mode, iq):
    r = iq(mode, "--", *LIBVIRT_LOG)
    assert r.returncode == 0, r.stderr
    assert "warning: fd=1729 is not an open file descriptor here" in r.stderr
    if mode == "--dry-run":
        assert "# monitor fd 1729" in r.stdout


def test_a_real_run_still_needs_the_fds(iq):
    r = iq("--", *LIBVIRT_LOG)
    assert r.returncode == 1
    assert "argv[14]: error: fd=1729 is not an open file descriptor" in r.stderr
