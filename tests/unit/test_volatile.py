"""Values that change at every start of the same VM (inorder/plan/volatile.py):
found where libvirt puts them, and passed through the planner untouched, so
that one exec record serves every start of a domain."""

from __future__ import annotations

import os
import socket

import pytest

from inorder import warm
from inorder.lang.argv import parse_argv
from inorder.plan import kept, volatile
from inorder.plan.planner import plan
from inorder.qemu.options import JSON_OPTIONS
from inorder.run.inherited import Inherited

from .conftest import for_binary
from .test_warm import Execd

UUID = "082ebe99-523d-437b-b3a7-7c19a8831984"


def libvirt_argv(number: int, uuid: str) -> list[str]:
    """A domain's command line as libvirt 9 writes it (from a domain log),
    for the start numbered `number`."""
    folder = f"/var/lib/libvirt/qemu/domain-{number}-web"
    return [
        "-name", "guest=web,debug-threads=on", "-S",
        "-object", '{"qom-type":"secret","id":"masterKey0","format":"raw","file":"'
                   + folder + '/master-key.aes"}',
        "-machine", "pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
        "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
        "-object", '{"qom-type":"memory-backend-ram","id":"pc.ram","size":268435456}',
        "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1",
        "-uuid", uuid, "-display", "none", "-no-user-config", "-nodefaults",
        "-chardev", "socket,id=charmonitor,fd=26,server=on,wait=off",
        "-mon", "chardev=charmonitor,id=monitor,mode=control",
        "-chardev", f"socket,id=charchannel0,path={folder}/agent.sock,server=on,wait=off",
        "-rtc", "base=utc", "-no-shutdown", "-boot", "strict=on",
        "-device", '{"driver":"pcie-root-port","port":8,"chassis":1,"id":"pci.1",'
                   '"bus":"pcie.0","multifunction":true,"addr":"0x1"}',
        "-netdev", '{"type":"user","id":"hostnet0"}',
        "-device", '{"driver":"virtio-net-pci","netdev":"hostnet0","id":"net0",'
                   '"mac":"52:54:00:10:20:30","bus":"pci.1","addr":"0x0"}',
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
        "-msg", "timestamp=on",
    ]


@pytest.fixture
def monitor_fd(tmp_path):
    """fd 26: a listening socket, as libvirt passes the monitor."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(tmp_path / "mon"))
    s.listen()
    saved = None
    try:
        saved = os.dup(26)
    except OSError:
        pass
    os.dup2(s.fileno(), 26, inheritable=False)
    s.close()
    yield 26
    if saved is None:
        os.close(26)
    else:
        os.dup2(saved, 26)
        os.close(saved)


def home(number: int) -> dict[str, str]:
    return {"HOME": f"/var/lib/libvirt/qemu/domain-{number}-web"}


def test_libvirt_s_folder_and_uuid_are_found():
    assert volatile.found(libvirt_argv(24, UUID), home(24)) == \
        [("folder", "domain-24-web"), ("uuid", UUID)]


@pytest.mark.parametrize("env", [{}, {"HOME": "/root"}, {"HOME": "/var/lib/domain-x-web"},
                                 {"HOME": "/var/lib/libvirt/qemu/domain-24-"}])
def test_no_folder_outside_libvirt_s_numbered_one(env):
    assert volatile.found(["-m", "256"], env) == []


@pytest.mark.parametrize("value", ["082ebe99523d437bb3a77c19a8831984", UUID + "0",
                                   UUID.replace("b", "g"), "-", ""])
def test_a_uuid_qemu_would_refuse_stays_as_it_is(value):
    """QEMU says why at its start, as without a record."""
    assert volatile.found(["-uuid", value], {}) == []


def test_markers_go_back_to_the_values_of_the_start_at_hand():
    """A domain named by its UUID: its folder holds the UUID."""
    values = [("folder", f"domain-3-{UUID}"), ("uuid", UUID)]
    text = f"/var/lib/libvirt/qemu/domain-3-{UUID}/master-key.aes uuid={UUID}"
    marked = volatile.abstract(text, values)
    assert UUID not in marked and "domain-3" not in marked
    other = [("folder", "domain-4-x"), ("uuid", "0" * 8 + UUID[8:])]
    assert volatile.fill(marked, other) == \
        f"/var/lib/libvirt/qemu/domain-4-x/master-key.aes uuid={'0' * 8 + UUID[8:]}"
    assert volatile.fill(marked, values) == text


def test_the_planner_passes_the_values_through(profile, monitor_fd):
    """The claim volatile.py rests on, for libvirt's argv: planned for two
    starts, the plans differ only in the values."""
    plans = []
    for number, uuid in ((24, UUID), (25, "1" * 8 + UUID[8:])):
        argv = libvirt_argv(number, uuid)
        p = plan(parse_argv(argv, profile.options, JSON_OPTIONS), profile, compat=True)
        values = volatile.found(argv, home(number))
        plans.append(([volatile.abstract(w, values) for w in p.direct_argv],
                      [(loc.line, loc.column, volatile.abstract(m, values))
                       for loc, m in p.warnings],
                      [volatile.abstract(m.opts.get("path", ""), values) for m in p.monitors],
                      p.direct))
    assert plans[0] == plans[1]
    assert plans[0][3] is True


def test_one_record_serves_the_next_start_with_its_own_values(profile, binary, tmp_path,
                                                               monkeypatch, monitor_fd):
    """Kept at start 24, exec'd at start 25: QEMU gets start 25's folder and UUID."""
    seen = []

    def execv(path, words):
        seen.append(words)
        raise Execd()
    monkeypatch.setattr(os, "execv", execv)
    mine = for_binary(profile, binary)
    for number in (24, 25):
        (tmp_path / f"domain-{number}-web").mkdir()
    first, second = libvirt_argv(24, UUID), libvirt_argv(25, "1" * 8 + UUID[8:])
    first, second = ([w.replace("/var/lib/libvirt/qemu", str(tmp_path)) for w in a]
                     for a in (first, second))
    monkeypatch.setenv("HOME", str(tmp_path / "domain-24-web"))
    p = plan(parse_argv(first, mine.options, JSON_OPTIONS), mine, compat=True)
    mode = warm.mode(True, False, False, "argv")
    kept.store_record(mode, first, p, [], binary, Inherited())
    monkeypatch.setenv("HOME", str(tmp_path / "domain-25-web"))
    with pytest.raises(Execd):
        warm.exec_kept(["/usr/bin/qemu-system-x86_64", *second], Inherited())
    [words] = seen
    assert words[1:] == second
    # another domain (its name is not volatile) has no record
    third = [w.replace("guest=web", "guest=db") for w in second]
    assert warm.exec_kept(["/usr/bin/qemu-system-x86_64", *third], Inherited()) is None
    assert len(seen) == 1


def test_a_record_holds_for_the_same_inherited_fds_only(profile, binary, monkeypatch):
    seen = []
    monkeypatch.setattr(os, "execv", lambda path, words: seen.append(words))
    mine = for_binary(profile, binary)
    argv = ["-nodefaults", "-add-fd", "set=0,fd=25", "-m", "256"]
    p = plan(parse_argv(argv, mine.options, JSON_OPTIONS), mine)
    mode = warm.mode(False, False, False, "argv")
    as_kept = Inherited()
    as_kept.kinds = ["25:100000"]                 # a regular file at fd 25
    kept.store_record(mode, argv, p, [], binary, as_kept)
    warm.exec_kept(["inorder-qemu", "--", *argv], Inherited())      # no fd 25
    assert seen == []
    other = Inherited()
    other.kinds = ["25:10000"]                    # a pipe
    warm.exec_kept(["inorder-qemu", "--", *argv], other)
    assert seen == []
    same = Inherited()
    same.kinds = ["25:100000"]
    warm.exec_kept(["inorder-qemu", "--", *argv], same)
    assert seen == [[binary, *p.direct_argv]]
