"""The differential syntax corpus: option arguments, valid and invalid,
hand-written and generated, where inorder-qemu's check and the QEMU under
test itself (7.2, and 10.0 in the second tier) agree on accept or refuse,
every one."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import QEMU
from inorder.errors import ScriptError
from inorder.lang.argv import parse_argv
from inorder.plan.planner import plan
from inorder.qemu import profile as profiles
from inorder.qemu.options import JSON_OPTIONS

BASE = ["-display", "none", "-nodefaults", "-netdev", "user,id=n0",
        "-object", "memory-backend-ram,id=ram0,size=64M"]


def context(option: str) -> list[str]:
    """What goes with the item: q35 and TCG, unless the item chooses them
    (QEMU tries -accel options in turn: a bad one after tcg is never read)."""
    return ([] if option in ("-machine", "-M") else ["-machine", "q35"]) + \
        ([] if option == "-accel" else ["-accel", "tcg"])

HAND = [
    # (option, argument, QEMU accepts it)
    ("-device", "virtio-net-pci,netdev=n0", True),
    ("-device", "virtio-net-pci,netdve=n0", False),
    ("-device", "virtio-net-pcii,netdev=n0", False),
    ("-device", "virtio-net-pci,netdev=n0,disable-legacy=on", True),
    ("-device", "virtio-net-pci,netdev=n0,disable-legacy=maybe", False),
    ("-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56", True),
    ("-device", "e1000,netdev=n0,macaddr=52:54:00:12:34:56", False),
    ("-device", '{"driver": "virtio-rng-pci", "max-bytes": 1024}', True),
    ("-device", '{"driver": "virtio-rng-pci", "max-byte": 1024}', False),
    ("-device", '{"driver": "virtio-rng-pcj"}', False),
    ("-device", "driver=virtio-rng-pci,period=1000", True),
    ("-device", "virtio-rng-pci,ioeventfd=off", True),
    ("-device", "virtio-rng-pci,ioeventfd=maybe", False),
    ("-device", "pcie-root-port,id=rp1,chassis=1", True),
    ("-device", "pcie-root-port,id=rp1,chasis=1", False),
    ("-device", "qemu-xhci,p2=4,p3=4", True),
    ("-device", "qemu-xhci,streams=maybe", False),
    ("-object", "iothread,id=io0", True),
    ("-object", "iothread,id=io0,poll-max-ns=32768", True),
    ("-object", "iothreda,id=io0", False),
    ("-object", "iothread,id=io0,pol-max-ns=1", False),
    ("-object", "memory-backend-ram,id=m1,size=64M", True),
    ("-object", "memory-backend-ram,id=m1,sise=64M", False),
    ("-object", "rng-random,id=r0,filename=/dev/urandom", True),
    ("-object", "rng-random,id=r0,filenam=/dev/urandom", False),
    ("-object", "qom-type=rng-randm,id=r0", False),
    ("-object", '{"qom-type": "iothread", "id": "io0", "poll-max-ns": 1}', True),
    ("-object", '{"qom-type": "iothread", "id": "io0", "poll-max": 1}', False),
    ("-netdev", "user,id=n1", True),
    ("-netdev", "user,id=n1,hostfwd=tcp::2222-:22", True),
    ("-netdev", "user,id=n1,hostfwdd=tcp::2222-:22", False),
    ("-netdev", "usr,id=n1", False),
    ("-netdev", "type=tapp,id=n1", False),
    ("-netdev", '{"type": "user", "id": "n1", "restrict": true}', True),
    ("-netdev", '{"type": "user", "id": "n1", "restrictt": true}', False),
    ("-blockdev", "null-co,node-name=d1", True),
    ("-blockdev", "driver=null-co,node-name=d1,size=1048576", True),
    ("-blockdev", "null-co,node-name=d1,sise=1", False),
    ("-blockdev", "driver=null-cp,node-name=d1", False),
    ("-blockdev", "nul-co,node-name=d1", False),
    ("-blockdev", '{"driver": "null-co", "node-name": "d1", "read-zeroes": true}', True),
    ("-blockdev", '{"driver": "null-co", "node-name": "d1", "read-zero": true}', False),
    ("-machine", "q35", True),
    ("-machine", "pc", True),
    ("-machine", "q53", False),
    ("-machine", "type=pc-q35-7.2", True),
    ("-machine", "type=pc-q35-7.3", False),
    ("-M", "pc-i440fx-9.9", False),
    ("-cpu", "qemu64", True),
    ("-cpu", "max", True),
    ("-cpu", "qemu65", False),
    ("-cpu", "Skylake-Client,+avx", True),
    ("-cpu", "Skylake-Clent", False),
    ("-cpu", "qemu64,+lahf_lm,-sse4.2,vendor=GenuineIntel,check", True),
    ("-cpu", "qemu64,+no-such-flag", False),
    ("-cpu", "qemu64,vendr=GenuineIntel", False),
    ("-cpu", "max,pmu=off", True),
    ("-cpu", "max,pmu=maybe", False),
    ("-accel", "tcg,thread=single", True),
    ("-accel", "tgc", False),
    ("-accel", "kmv", False),
    ("-m", "256M", True),
    ("-m", "1.5G", True),
    ("-m", "512", True),
    ("-m", "size=256M,slots=2,maxmem=1G", True),
    ("-m", "2X", False),
    ("-m", "12Q", False),
    ("-m", "size=256M,maxmem=lots", False),
    # parameters the binary lists (query-command-line-options); -smp and -boot keyval
    ("-smp", "2", True),
    ("-smp", "cpus=2,sockets=1,cores=2,threads=1", True),
    ("-smp", "2,cors=2", False),
    ("-smp", "cpus=2x", False),
    ("-smp", "2,nocores", False),
    ("-rtc", "base=utc,clock=host", True),
    ("-rtc", "bse=utc", False),
    ("-boot", "order=cd,menu=on", True),
    ("-boot", "order=c,menu=maybe", False),
    ("-boot", "order=c,menu", False),
    ("-boot", "order=c,splash-time=soon", False),
    ("-name", "guest=vm1,debug-threads=on", True),
    ("-name", "vm1,debug-threads", True),
    ("-name", "guest=vm1,debug-threads=maybe", False),
    ("-name", "vm1,proces=vm1", False),
    ("-msg", "timestamp=on", True),
    ("-msg", "timestap=on", False),
    ("-overcommit", "mem-lock=off", True),
    ("-overcommit", "mem-lok=off", False),
    ("-sandbox", "on,obsolete=deny", True),
    ("-sandbox", "on,obsolet=deny", False),
    ("-sandbox", "maybe", False),
    ("-action", "reboot=shutdown,panic=pause", True),
    ("-action", "reboot=shutdown,panik=pause", False),
    # a machine type's own properties (qom-list-properties)
    ("-machine", "q35,usb=off,dump-guest-core=off", True),
    ("-machine", "q35,smm=off,vmport=off,graphics=off", True),
    ("-machine", "q35,usbb=off", False),
    ("-machine", "pc,vmprt=off", False),
    ("-machine", "none,dump-guest-core=off", True),
    ("-machine", "none,smm=off", False),
    # a backend's nested objects, by their own discriminator
    ("-blockdev", "driver=raw,node-name=r1,file.driver=null-co,file.size=1048576", True),
    ("-blockdev", "driver=raw,node-name=r1,file.driver=null-co,file.sise=1M", False),
    ("-blockdev", '{"driver": "raw", "node-name": "r1", "file": {"driver": "null-co", '
                  '"read-zeroes": true}}', True),
    ("-blockdev", '{"driver": "raw", "node-name": "r1", "file": {"driver": "null-co", '
                  '"read-zero": true}}', False),
    # integer ranges; enum values
    ("-device", "pcie-root-port,id=rp1,chassis=255", True),
    ("-device", "pcie-root-port,id=rp1,chassis=300", False),
    ("-device", "virtio-net-pci,netdev=n0,host_mtu=x", False),
    ("-blockdev", "driver=null-co,node-name=d1,detect-zeroes=on", True),
    ("-blockdev", "driver=null-co,node-name=d1,detect-zeroes=maybe", False),
    ("-blockdev", "driver=file,node-name=f1,filename=/etc/hostname,read-only=on,aio=threads",
     True),
    ("-blockdev", "driver=file,node-name=f1,filename=/etc/hostname,read-only=on,aio=fast",
     False),
]

# generated: device types that stand alone on q35, each valid, with a
# misspelt key, with a good and a bad boolean, with a key no device has
STANDALONE = ["virtio-rng-pci", "virtio-balloon-pci", "e1000", "qemu-xhci", "virtio-scsi-pci",
              "ich9-ahci", "virtio-serial-pci", "intel-hda", "edu", "VGA", "i6300esb",
              "pcie-root-port", "virtio-net-pci"]
GENERATED = []
for t in STANDALONE:
    GENERATED += [("-device", f"{t},id=x0", True), ("-device", f"{t},idd=x0", False),
                  ("-device", f"{t},multifunction=on", True),
                  ("-device", f"{t},multifunction=maybe", False),
                  ("-device", f"{t},no-such-property-anywhere=1", False),
                  ("-device", f"{t[:-1]}{chr(ord(t[-1]) + 1)}", False)]
for m in ["pc-q35-7.2", "pc-q35-6.0", "pc-q35-4.2", "pc-i440fx-7.2", "pc-i440fx-5.0", "isapc",
          "microvm", "none"]:
    GENERATED += [("-machine", m, True), ("-machine", m + "x", False)]
for c in ["qemu32", "kvm64", "Haswell", "EPYC", "Nehalem", "Westmere-v1", "phenom", "coreduo"]:
    GENERATED += [("-cpu", c, True), ("-cpu", c + "z", False)]
for size in ["64M", "1G", "0.5G", "131072K", "1073741824B"]:
    GENERATED += [("-m", size, True), ("-m", size.replace("M", "Y").replace("G", "W")
                                             .replace("K", "J").replace("B", "Q"), False)]

CORPUS = HAND + GENERATED


def qemu_accepts(option: str, argument: str) -> tuple[bool, str]:
    """QEMU given the item: it reaches its monitor (and quits), or exits."""
    r = subprocess.run([QEMU, *BASE, *context(option), "-S", option, argument,
                        "-qmp", "stdio"],
                       input='{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n',
                       capture_output=True, text=True, timeout=60)
    return r.returncode == 0, r.stderr.strip()


@pytest.fixture(scope="module")
def profile(env):
    os.environ["INORDER_CACHE"] = env["env"]["INORDER_CACHE"]
    try:
        return profiles.load(QEMU)
    finally:
        del os.environ["INORDER_CACHE"]


def we_accept(profile, option: str, argument: str) -> tuple[bool, str]:
    try:
        plan(parse_argv([*BASE, *context(option), option, argument], profile.options,
                        JSON_OPTIONS),
             profile)
        return True, ""
    except ScriptError as e:
        return False, e.message


def test_the_corpus_is_large_and_mixed():
    assert len(CORPUS) >= 150
    assert sum(ok for *_, ok in CORPUS) >= 50 and sum(not ok for *_, ok in CORPUS) >= 50


@pytest.mark.parametrize("option, argument, accepted", CORPUS,
                         ids=[f"{o} {a}"[:60] for o, a, _ in CORPUS])
def test_check_and_qemu_agree(profile, option, argument, accepted):
    theirs, said = qemu_accepts(option, argument)
    assert theirs == accepted, f"the corpus is wrong about QEMU: {said}"
    ours, message = we_accept(profile, option, argument)
    assert ours == theirs, f"--check: {message or 'accepted'}; QEMU: {said or 'accepted'}"
