"""--check catches what QEMU would refuse, against the recorded QEMU 7.2
profile: each broken line, in a script and as an argv, is refused at its
word, with QEMU's terms and the nearest valid word where one is close."""

from __future__ import annotations

import shlex

import pytest

from inorder.errors import ScriptError
from inorder.lang.argv import parse_argv
from inorder.lang.parse import parse_file
from inorder.plan.planner import plan
from inorder.qemu.options import JSON_OPTIONS

ABOVE = ["-nodefaults", "-machine q35", "-netdev user,id=n0",
         "-object memory-backend-ram,id=ram0,size=64M", "-chardev null,id=c0",
         "-device virtio-rng-pci,id=r0"]

# (line, what the message says, the column of the word in the line)
BROKEN = [
    ("-device virtio-net-pci,netdve=n0", "'virtio-net-pci' has no property 'netdve' "
                                         "(did you mean 'netdev'?)", 24),
    ("-device virtio-net-pcii,netdev=n0", "unknown device type 'virtio-net-pcii' "
                                          "(did you mean 'virtio-net-pci'?)", 9),
    ("-device driver=virtio-rng-pcj", "unknown device type 'virtio-rng-pcj'", 16),
    ('-device {"driver": "virtio-rng-pcj"}', "unknown device type 'virtio-rng-pcj'", 9),
    ('-device {"driver": "virtio-rng-pci", "max-byte": 1}',
     "'virtio-rng-pci' has no property 'max-byte' (did you mean 'max-bytes'?)", 9),
    ("-device virtio-net-pci,netdev=n0,disable-legacy=maybe",
     "disable-legacy=maybe: expected on, off or auto", 49),
    ("-device virtio-rng-pci,ioeventfd=maybe", "ioeventfd=maybe: expected on or off", 34),
    ("-device virtio-blk-pci,drive=d0,scsii=on", "has no property 'scsii'", 33),
    ("-device pcie-root-port,id=rp1,chasis=1", "has no property 'chasis' (did you mean "
                                               "'chassis'?)", 31),
    ("-device e1000,netdev=n0,macaddr=52:54:00:12:34:56", "has no property 'macaddr'", 25),
    ("-device isa-serial,chardev=c0,indx=0", "has no property 'indx' (did you mean 'index'?)",
     31),
    ("-device qemu-xhci,p2=4,p3=4,streams=maybe", "streams=maybe: expected on or off", 37),
    ("-object memory-backend-ram,id=m1,sise=64M", "'sise' (did you mean 'size'?)", 34),
    ("-object iothreda,id=io0", "unknown object type 'iothreda' (did you mean 'iothread'?)",
     9),
    ("-object qom-type=rng-randm,id=r0", "unknown object type 'rng-randm' (did you mean "
                                         "'rng-random'?)", 18),
    ('-object {"qom-type": "iothread", "id": "io0", "poll-max": 1}',
     "'poll-max' (did you mean 'poll-max-ns'?)", 9),
    ("-object rng-random,id=r0,filenam=/dev/urandom",
     "'filenam' (did you mean 'filename'?)", 26),
    ("-object iothread,id=io0,poll-grow=2,pol-shrink=0", "'pol-shrink'", 37),
    ("-netdev usr,id=n1", "unknown -netdev type 'usr' (did you mean 'user'?)", 9),
    ("-netdev user,id=n1,hostfwdd=tcp::22-:22", "'hostfwdd' (did you mean 'hostfwd'?)", 20),
    ("-netdev type=tapp,id=n1", "unknown -netdev type 'tapp' (did you mean 'tap'?)", 14),
    ('-netdev {"type": "user", "id": "n1", "restrictt": true}', "'restrictt'", 9),
    ("-blockdev driver=null-cp,node-name=d1", "unknown -blockdev driver 'null-cp' (did you "
                                              "mean 'null-co'?)", 18),
    ("-blockdev null-co,node-name=d1,sise=1", "'sise' (did you mean 'size'?)", 32),
    ("-blockdev nul-co,node-name=d1", "unknown -blockdev driver 'nul-co'", 11),
    ('-blockdev {"driver": "null-co", "node-name": "d1", "read-zero": true}',
     "'read-zero' (did you mean 'read-zeroes'?)", 11),
    ("-machine q53", "unknown machine type 'q53' (did you mean 'q35'?)", 10),
    ("-machine type=pc-q35-7.3", "unknown machine type 'pc-q35-7.3' (did you mean "
                                 "'pc-q35-7.2'?)", 15),
    ("-M pc-i440fx-9.9", "unknown machine type 'pc-i440fx-9.9'", 4),
    ("-cpu qemu65", "unknown CPU model 'qemu65' (did you mean 'qemu64'?)", 6),
    ("-cpu Skylake-Clent,+avx", "unknown CPU model 'Skylake-Clent' (did you mean "
                                "'Skylake-Client'?)", 6),
    ("-cpu qemu64,+no-such-flag", "unknown feature of CPU model 'qemu64' 'no-such-flag'", 14),
    ("-cpu qemu64,+avx,vendr=GenuineIntel", "unknown feature of CPU model 'qemu64' 'vendr' "
                                            "(did you mean 'vendor'?)", 18),
    ("-cpu max,pmu=maybe", "pmu=maybe: expected on or off", 14),
    ("-accel tgc", "unknown accelerator 'tgc' (did you mean 'tcg'?)", 8),
    ("-accel kmv,thread=single", "unknown accelerator 'kmv' (did you mean 'kvm'?)", 8),
    ("-m 2X", "-m size=2X: expected a size", 4),
    ("-m size=1G,maxmem=lots", "-m maxmem=lots: expected a size", 19),
    ("-m 12Q", "-m size=12Q: expected a size", 4),
    # the parameters of QemuOpts and keyval options, from query-command-line-options
    ("-smp 2,cors=2", "unknown parameter of -smp 'cors' (did you mean 'cores'?)", 8),
    ("-smp cpus=2x", "-smp cpus=2x: expected a number", 11),
    ("-smp 2,nocores", "expected '=' after parameter 'nocores'", 8),
    ("-rtc bse=utc", "unknown parameter of -rtc 'bse' (did you mean 'base'?)", 6),
    ("-boot order=c,menu=maybe", "-boot menu=maybe: expected on or off", 20),
    ("-boot order=c,menu", "expected '=' after parameter 'menu'", 15),
    ("-boot order=c,splash-time=soon", "-boot splash-time=soon: expected a number", 27),
    ("-name guest=vm1,debug-threads=maybe", "-name debug-threads=maybe: expected on or off", 31),
    ("-name vm1,proces=vm1", "unknown parameter of -name 'proces' (did you mean 'process'?)",
     11),
    ("-msg timestap=on", "unknown parameter of -msg 'timestap' (did you mean 'timestamp'?)", 6),
    ("-overcommit mem-lok=off", "unknown parameter of -overcommit 'mem-lok'", 13),
    ("-sandbox on,obsolet=deny", "unknown parameter of -sandbox 'obsolet'", 13),
    ("-sandbox maybe", "-sandbox enable=maybe: expected on or off", 10),
    ("-action reboot=shutdown,panik=pause", "unknown parameter of -action 'panik'", 25),
    ("-machine q35,usbb=off", "unknown property of machine type 'pc-q35-7.2' 'usbb' (did you "
                              "mean 'usb'?)", 14),
    ("-machine pc,vmprt=off", "unknown property of machine type 'pc-i440fx-7.2' 'vmprt'", 13),
    # nested objects of a backend: blockdev-add's file=, by its own driver
    ("-blockdev driver=raw,node-name=r1,file.driver=null-co,file.sise=1",
     "unknown key of -blockdev raw 'file.sise' (did you mean 'size'?)", 55),
    ('-blockdev {"driver": "raw", "node-name": "r1", "file": {"driver": "null-co", '
     '"read-zero": true}}', "unknown key of -blockdev raw 'file.read-zero' (did you mean "
                            "'read-zeroes'?)", 11),
    # integer ranges of device properties, enum values of backend members
    ("-device pcie-root-port,id=rp1,chassis=300", "chassis=300: expected an integer from 0 "
                                                  "to 255 (uint8)", 39),
    ("-device virtio-net-pci,netdev=n0,host_mtu=x", "host_mtu=x: expected an integer", 43),
    ("-blockdev driver=null-co,node-name=d1,detect-zeroes=maybe",
     "unknown value of detect-zeroes= 'maybe'", 53),
    ("-blockdev driver=file,node-name=f1,filename=/dev/null,aio=fast",
     "unknown value of aio= 'fast'", 59),
    # qom-set / qom-get of a property the profile knows, with its type
    ("qom-set path=/machine property=dump-guest-core value=maybe",
     "property 'dump-guest-core' of machine type 'pc-q35-7.2' takes true or false", 48),
    ("qom-set path=/machine property=dump-guest-cor value=true",
     "machine type 'pc-q35-7.2' has no property 'dump-guest-cor' (did you mean "
     "'dump-guest-core'?)", 23),
    ("qom-set path=/machine/peripheral/r0 property=max-bytes value=true",
     "property 'max-bytes' of 'virtio-rng-pci' takes an integer", 56),
    ('{"execute": "qom-set", "arguments": {"path": "/machine", "property": "usb", '
     '"value": "off"}}', "property 'usb' of machine type 'pc-q35-7.2' takes true or false", 1),
    ("qom-set path=/machine property=dump-guest-core valeu=true",
     "unknown argument of 'qom-set' 'valeu' (did you mean 'value'?)", 48),
    ("qom-get path=/machine", "'qom-get' needs the argument 'property'", 1),
    ('object-add {"qom-type": "iothread", "id": "io1", "pol-max-ns": 1}',
     "unknown argument of 'object-add' 'pol-max-ns'", 12),
    ("query-cpus-fast bogus=1", "unknown argument of 'query-cpus-fast' 'bogus'", 17),
    ('{"execute": "qom-list", "arguments": {"pth": "/machine"}}',
     "unknown argument of 'qom-list' 'pth' (did you mean 'path'?)", 1),
]


@pytest.fixture
def check_script(write, profile):
    def check(line):
        with pytest.raises(ScriptError) as e:
            plan(parse_file(write("vm.qcmd", *ABOVE, line)), profile)
        return e.value
    return check


@pytest.mark.parametrize("line, said, column", BROKEN, ids=[b[0][:40] for b in BROKEN])
def test_a_broken_script_line_is_caught_at_its_word(check_script, line, said, column):
    e = check_script(line)
    assert said in e.message
    assert (e.location.line, e.location.column) == (len(ABOVE) + 1, column)
    assert e.render()


ARGV_BROKEN = [b for b in BROKEN if b[0].startswith("-")]


@pytest.mark.parametrize("line, said, column", ARGV_BROKEN,
                         ids=[b[0][:40] for b in ARGV_BROKEN])
def test_a_broken_argv_item_is_caught_at_its_index(profile, line, said, column):
    argv = [w for above in ABOVE for w in shlex.split(above)]
    index = len(argv)
    argv += line.split(" ", 1)
    with pytest.raises(ScriptError) as e:
        plan(parse_argv(argv, profile.options, JSON_OPTIONS), profile)
    assert said in e.value.message
    assert str(e.value.location) in (f"argv[{index}]", f"argv[{index + 1}]")


VALID = [
    "-device virtio-net-pci,netdev=n0,id=nic0,disable-legacy=on,mac=52:54:00:12:34:56",
    "-device virtio-rng-pci,ioeventfd=off,max-bytes=1024,period=1000",
    '-device {"driver": "virtio-rng-pci", "id": "r1", "max-bytes": 1024}',
    "-device pcie-root-port,id=rp1,chassis=1,addr=0x2.0x1,multifunction=on",
    "-object iothread,id=io0,poll-max-ns=32768",
    "-object rng-random,id=r0,filename=/dev/urandom",
    "-blockdev null-co,node-name=d1,size=1048576",
    "-blockdev driver=null-co,node-name=d1,read-zeroes=on",
    "-netdev user,id=n1,hostfwd=tcp::2222-:22,restrict=on",
    "-machine pc-q35-7.2,dump-guest-core=off",
    "-machine q35", "-M pc", "-cpu qemu64,+avx", "-cpu max", "-cpu host",
    "-cpu qemu64,+lahf_lm,-sse4.2,vendor=GenuineIntel,pmu=off,check,level=13",
    "-cpu Skylake-Client,+avx,hv_relaxed,-x2apic",
    "-accel tcg,thread=single", "-accel kvm", "-m 1.5G", "-m size=512M,slots=2,maxmem=2G",
    "-m 512", "qom-get path=/machine property=type",
    "qom-set path=/machine property=dump-guest-core value=false",
    "qom-get path=/machine/peripheral/r0 property=max-bytes",
    "qom-get path=/machine/peripheral/r0 property=parent_bus",
    "qom-get path=/machine property=unattached",
    "qom-set path=/machine/peripheral/r0 property=hotplugged value=false",
    "qom-set path=/machine/peripheral-anon/x property=whatever value=1",
    "-machine q35,usb=off,dump-guest-core=off,smm=off,vmport=off,accel=tcg",
    "-machine pc,memory-backend=ram0,smp.cpus=2", "-machine none,graphics=off",
    "-smp 2", "-smp cpus=2,sockets=1,cores=2,threads=1,maxcpus=2", "-smp 2,dies=1,clusters=1",
    "-rtc base=utc,clock=host,driftfix=slew", "-boot order=cd,menu=on,strict=off",
    "-boot c", "-name guest=vm1,debug-threads=on,process=vm1", "-name vm1,debug-threads",
    "-msg timestamp=on,guest-name=yes", "-overcommit mem-lock=off,cpu-pm=off",
    "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-action reboot=shutdown,panic=pause", "-device pcie-root-port,id=rp9,chassis=255",
    "-mon chardev=c0,id=monitor,mode=control",
    "-device isa-serial,iobase=0x3f8,index=0",
    "-blockdev driver=null-co,node-name=d2,detect-zeroes=on",
    "-blockdev driver=raw,node-name=r2,file.driver=null-co,file.size=1048576",
    "-blockdev driver=raw,node-name=r3,file.filename=/dev/null",
    '-blockdev {"driver": "raw", "node-name": "r4", "file": {"driver": "null-co", '
    '"read-zeroes": true}}',
    "-blockdev driver=file,node-name=f1,filename=/dev/null,aio=threads",
]


@pytest.mark.parametrize("line", VALID)
def test_a_valid_line_is_no_false_alarm(write, profile, line):
    plan(parse_file(write("vm.qcmd", *ABOVE, line)), profile)
