"""Options after the machine is built, each through QEMU's own handler at
that phase: -chardev (chardev-add), -drive (HMP drive_add), -netdev
(netdev_add), -object (object-add), -device (device_add)."""

from __future__ import annotations

import json
import socket

from conftest import Monitor, qemu_pids, script, wait_gone

QOM = "qom-get path=/machine/peripheral/{} property=hotplugged"


def test_every_hot_handler_creates_what_it_names(iq, tmp_path, name):
    img = tmp_path / "d.img"
    img.write_bytes(b"\0" * (1 << 20))
    sock = tmp_path / "c.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "-m 128M",
                "-device virtio-serial-pci,id=vs0",
                "-device pcie-root-port,id=rp1,chassis=1",
                "-device pcie-root-port,id=rp2,chassis=2",
                "cont",
                # data flows through a hot ringbuf
                "-chardev ringbuf,id=rb0,size=4K",
                "ringbuf-write device=rb0 data=hello",
                "ringbuf-read device=rb0 size=100",
                # a hot file chardev, and a hot port on it
                f"-chardev file,id=f0,path={tmp_path}/port.log",
                "-device virtserialport,chardev=f0,bus=vs0.0,id=port0",
                QOM.format("port0"),
                # a hot socket chardev that listens
                f"-chardev socket,id=s0,path={sock},server=on,wait=off",
                "-device virtserialport,chardev=s0,bus=vs0.0,id=port1",
                # a hot drive, and a disk on it
                f"-drive file={img},format=raw,id=d1",
                "-device virtio-blk-pci,drive=d1,bus=rp1,id=disk1",
                QOM.format("disk1"),
                # a hot netdev and object, and a NIC on the netdev
                "-netdev user,id=n1",
                "-device virtio-net-pci,netdev=n1,bus=rp2,id=nic1",
                QOM.format("nic1"),
                "-object iothread,id=io1",
                "qom-get path=/objects/io1 property=poll-max-ns",
                "query-chardev", "quit")
    r = iq(vm)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "hello"
    assert out[1:3] == ["true", "true"] and out[3] == "true"
    assert out[4] == "32768"
    chardevs = {c["label"]: c["filename"] for c in json.loads(out[5])}
    assert chardevs["rb0"] == "ringbuf" and chardevs["f0"].startswith("file")
    assert chardevs["s0"] == f"disconnected:unix:{sock},server=on"
    assert (tmp_path / "port.log").exists()
    assert wait_gone(name)
    assert not sock.exists()


def test_a_hot_drive_qemu_refuses_is_located_and_nothing_after_it_runs(iq, tmp_path, name):
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "cont",
                "-drive file=/nonexistent/d.img,format=raw,id=d1",
                f"-chardev file,id=f0,path={tmp_path}/after.log", "quit")
    r = iq(vm)
    assert r.returncode == 1
    assert ("vm.qcmd:7:1: error: QEMU refused '-drive': Could not open "
            "'/nonexistent/d.img': No such file or directory") in r.stderr, r.stderr
    assert not (tmp_path / "after.log").exists()
    assert wait_gone(name)


def test_a_hot_socket_chardev_is_reachable(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "hot.sock"
    mon = sockdir / "m.sock"
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "cont",
                f"-chardev socket,id=s0,path={sock},server=on,wait=off",
                f"-qmp unix:{mon},server=on,wait=off")
    proc = iq_bg(vm)
    m = Monitor(mon)
    try:
        c = socket.socket(socket.AF_UNIX)
        c.connect(str(sock))                  # QEMU accepts: the chardev is there
        c.close()
        assert any(x["label"] == "s0" for x in m("query-chardev"))
    finally:
        m.quit()
    proc.wait(30)
    assert qemu_pids(name) == []
