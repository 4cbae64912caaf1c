"""Bad input of every class an in-process fuzz run found: each ends in a
located error of inorder-qemu's own (or plans as QEMU would), never in an
internal error, a wrong location, or minutes of work."""

from __future__ import annotations

import time

import pytest

from inorder.errors import ScriptError
from inorder.lang.argv import parse_argv
from inorder.lang.parse import parse_file
from inorder.lang.readconfig import expand
from inorder.plan.planner import plan
from inorder.qemu.options import JSON_OPTIONS, READCONFIG_GROUPS

DEEP = "[" * 500 + "]" * 500


@pytest.fixture
def planned(write, profile):
    def planned(*lines, name="vm.qcmd", **kw):
        files = []
        commands = expand(parse_file(write(name, *lines), files=files), files, READCONFIG_GROUPS)
        return plan(commands, profile, **kw)
    return planned


@pytest.fixture
def refused(planned):
    def refused(*lines, **kw):
        with pytest.raises(ScriptError) as e:
            planned(*lines, **kw)
        assert e.value.location is not None, e.value.message
        e.value.render()                          # renders, snippet and all
        return e.value
    return refused


@pytest.mark.parametrize("line", [
    '-device {"driver": "virtio-rng-pci", "x": ' + DEEP + '}',
    '{"execute": "qom-set", "arguments": {"value": ' + DEEP + '}}',
    'qom-set {"path": "/machine", "property": "p", "value": ' + DEEP + '}',
    "qom-set path=/machine property=p value=" + DEEP,
])
def test_json_nested_too_deep_is_located(line, refused):
    assert "nested more than 100 deep" in refused("-nodefaults", line).message


def test_json_nested_too_deep_in_an_argv_is_located(profile):
    with pytest.raises(ScriptError) as e:
        parse_argv(["-device", '{"driver": "x", "y": ' + DEEP + "}"], profile.options, JSON_OPTIONS)
    assert "nested more than" in e.value.message and str(e.value.location) == "argv[1]"


def test_an_integer_of_5000_digits_is_located(refused, profile):
    e = refused("-nodefaults", '-device {"driver": "virtio-rng-pci", "x": ' + "9" * 5000 + "}")
    assert e.message.startswith("malformed JSON")
    with pytest.raises(ScriptError):
        parse_argv(["-device", '{"x": ' + "9" * 5000 + "}"], profile.options, JSON_OPTIONS)


def test_a_size_of_400_digits_is_refused_at_its_value(refused):
    # no size at all (QEMU's limit is 2^64), and no OverflowError
    e = refused("-nodefaults", "-object memory-backend-ram,id=m0,size=" + "9" * 400 + "G",
                "qom-set path=/machine property=dump-guest-core value=true")
    assert e.message.startswith("size=999") and "expected a number" in e.message


@pytest.mark.parametrize("line, where", [
    ("include a\0b.qcmd", "2:10"),
    ("-readconfig a\0b.cfg", "2:14"),
    ("-qmp unix:/tmp/a\0b.sock,server=on,wait=off", "2:17"),
])
def test_a_nul_byte_in_a_path_is_located(line, where, refused):
    # at the NUL itself: no word of a script may hold one
    e = refused("-nodefaults", line)
    assert "NUL" in e.message and f"{e.location.line}:{e.location.column}" == where


@pytest.mark.parametrize("lines", [
    ["-chardev socket,id=c0,id=c1,path=/tmp/x.sock,server=on,wait=off", "-mon chardev=c0"],
    ["-chardev null,id=c0", "-mon chardev=c0,chardev=c0,mode=control"],
    ["-chardev socket,id=c0,backend=x,path=/tmp/x.sock,server=on,server=off"],
])
def test_a_key_given_twice_plans(lines, planned):
    planned("-nodefaults", *lines)


def test_a_repeated_id_defines_the_first_as_qemu_does(planned, refused):
    p = planned("-nodefaults", "-netdev user,id=n0,id=n1", "-device virtio-net-pci,netdev=n0")
    assert p.steps
    e = refused("-nodefaults", "-netdev user,id=n0,id=n1", "-device virtio-net-pci,netdev=n1")
    assert e.message == "netdev 'n1' is used before it is defined"
    e = refused("-nodefaults", "-netdev user,id=n0,id=n1", "-netdev user,id=n0")
    assert e.message == "netdev 'n0' is already defined"
    assert (e.notes[0].location.line, e.notes[0].location.column) == (2, 17)


def test_a_huge_cpu_range_is_not_expanded(planned):
    p = planned("-nodefaults", "-numa node,cpus=0-99999999999", feed=True)
    [step] = [s for s in p.steps if s.execute == "set-numa-node"]
    assert step.arguments["cpus"] == ["0-99999999999"]


def test_an_fd_too_large_is_located(refused):
    e = refused("-nodefaults", "-chardev socket,id=m,fd=99999999999,server=on,wait=off",
                "-mon chardev=m,mode=control")
    assert e.message == "fd=99999999999 is not an open file descriptor"


def test_object_del_of_a_list_plans(planned):
    planned("-nodefaults", "-object iothread,id=io0", "object-del id=[1]")


def test_an_include_chain_130_deep_plans_and_1000_deep_is_refused(tmp_path, profile):
    def chain(n):
        for i in range(n):
            (tmp_path / f"c{i}.qcmd").write_text(f"include c{i + 1}.qcmd\n")
        (tmp_path / f"c{n}.qcmd").write_text("-nodefaults\n")
        return str(tmp_path / "c0.qcmd")
    with pytest.raises(ScriptError) as e:
        parse_file(chain(130))
    assert e.value.message == "includes nested more than 64 deep"
    assert len(plan(parse_file(chain(60)), profile).steps) >= 1


def test_a_lone_surrogate_in_json_is_located(refused):
    e = refused("-nodefaults", '-device {"driver": "virtio-rng-pci", "id": "\\ud800"}')
    assert e.message == "a lone surrogate in a JSON string"


def test_a_script_that_is_not_utf8_is_located_at_the_first_bad_byte(tmp_path):
    path = tmp_path / "vm.qcmd"
    path.write_bytes(b"-nodefaults\n-name caf\xe9\n")
    with pytest.raises(ScriptError) as e:
        parse_file(str(path))
    assert (e.value.location.line, e.value.location.column) == (2, 10)
    assert "byte 0xe9" in e.value.message and "-name caf" in e.value.render()


def test_a_nul_byte_in_a_script_is_located(tmp_path):
    # QEMU's argv is C strings: the word would be cut at the NUL, or the
    # spawn fail with Python's "embedded null byte"
    (tmp_path / "vm.qcmd").write_bytes(b"-nodefaults\n-name a\0b\n")
    with pytest.raises(ScriptError) as e:
        parse_file(str(tmp_path / "vm.qcmd"))
    assert "NUL byte" in e.value.message
    assert (e.value.location.line, e.value.location.column) == (2, 8)


def test_a_nul_byte_in_a_readconfig_file_is_located(tmp_path, refused):
    (tmp_path / "vm.cfg").write_bytes(b'[name]\nguest = "a\0b"\n')
    e = refused("-readconfig vm.cfg")
    assert "NUL byte" in e.message
    assert str(e.location).endswith("vm.cfg:2:11")


def test_a_readconfig_section_for_an_option_without_argument_is_located(write, refused):
    write("vm.cfg", "[nodefaults]")
    e = refused("-nodefaults", "-readconfig vm.cfg")
    assert e.message == "option '-nodefaults' takes no argument"
    assert str(e.location).endswith("vm.cfg:1:1")


@pytest.mark.parametrize("brk", ["\f", "\v", "\x85", "\u2028"])
def test_only_newlines_end_lines(brk, refused):
    e = refused('-name "a' + brk + 'b"', "-netdev user,id=n0", "-netdev user,id=n0")
    assert (e.location.line, e.location.column) == (3, 17)
    assert "-netdev user,id=n0" in e.location.snippet()


def _quick(seconds: float, work) -> None:
    # a bound for what must take linear time, not a benchmark: quadratic
    # work on these inputs took minutes
    start = time.monotonic()
    work()
    assert time.monotonic() - start < seconds


def test_a_size_padded_with_spaces_is_quick(refused):
    # refused (it is no size), and quickly
    _quick(10, lambda: refused("-nodefaults", "-object 'memory-backend-ram,id=m0,size=1"
                               + " " * 100_000 + "x'", feed=True))


def test_a_readconfig_header_of_spaces_is_quick(write, planned):
    write("vm.cfg", "[" + " " * 100_000 + "x")
    with pytest.raises(ScriptError):
        _quick(10, lambda: planned("-nodefaults", "-readconfig vm.cfg"))


def test_a_device_with_200000_repeated_keys_is_quick(planned):
    _quick(20, lambda: planned("-nodefaults", "-device virtio-rng-pci" + ",period=1" * 200_000))


@pytest.mark.parametrize("line", ["-qmp tcp:localhost:notaport,server=on,wait=off",
                                  "-qmp tcp:localhost:4444,to=x,server=on,wait=off",
                                  "-chardev socket,id=m,host=localhost,port=p,server=on,wait=off"])
def test_a_monitor_port_that_is_no_number_is_located(line, refused):
    lines = ["-nodefaults", line] + (["-mon chardev=m"] if "-chardev" in line else [])
    assert "is not a port number" in refused(*lines).message
