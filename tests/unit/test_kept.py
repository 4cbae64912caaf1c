"""Kept plans (inorder.plan.kept): valid for the same key and the same files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inorder.lang.parse import parse_file
from inorder.plan import kept
from inorder.plan.planner import plan
from inorder.qemu.profile import Profile


@pytest.fixture
def script(write):
    return write("vm.qcmd", "-nodefaults", "-m 256M", "include inc.qcmd")


@pytest.fixture
def include(write):
    return write("inc.qcmd", "-netdev user,id=n0",
                 "qom-set path=/machine property=dump-guest-core value=true")


@pytest.fixture
def made(script, include, profile):
    """(the plan of the script, the files it was read from)."""
    files = []
    return plan(parse_file(script, files=files), profile), files


@pytest.fixture
def key(script, profile):
    return kept.key("in-order script", [script], profile)


def test_a_stored_plan_loads_back_equal(made, key, private_cache):
    p, files = made
    kept.store(key, p, files)
    again = kept.load(key)
    assert again is not None and again is not p
    assert again.to_json() == p.to_json()
    # it went to the private cache
    assert os.path.dirname(kept._path(key)) == str(private_cache / "plans")
    assert os.path.exists(kept._path(key))


def test_nothing_stored_loads_nothing(key):
    assert kept.load(key) is None


def test_a_changed_include_of_the_same_size_invalidates_the_plan(made, key, include):
    p, files = made
    kept.store(key, p, files)
    before = os.stat(include)
    with open(include, "r+") as f:
        text = f.read()
        f.seek(0)
        f.write(text.replace("n0", "n1"))
    after = os.stat(include)
    assert after.st_size == before.st_size
    os.utime(include, ns=(before.st_atime_ns, before.st_mtime_ns))   # the same mtime, too
    assert kept.load(key) is None


def test_a_changed_script_invalidates_the_plan(made, key, script):
    p, files = made
    kept.store(key, p, files)
    with open(script, "a") as f:
        f.write("-smp 2\n")
    assert kept.load(key) is None


def test_a_removed_dependency_invalidates_the_plan(made, key, include):
    p, files = made
    kept.store(key, p, files)
    os.unlink(include)
    assert kept.load(key) is None


def test_a_rewrite_with_the_same_content_keeps_the_plan(made, key, include):
    p, files = made
    kept.store(key, p, files)
    Path(include).write_text(Path(include).read_text())
    os.utime(include, ns=(0, 0))
    assert kept.load(key) is not None


def test_another_key_does_not_load_the_plan(made, key, script, profile):
    p, files = made
    kept.store(key, p, files)
    assert kept.load(kept.key("compat script", [script], profile)) is None
    assert kept.load(kept.key("in-order script", [script, "-S"], profile)) is None


def test_another_binary_does_not_load_the_plan(made, script, profile, tmp_path):
    """A plan is for one binary, as its profile is: not for one at another
    path, nor for another build installed at the same path."""
    p, files = made
    binary = tmp_path / "qemu-system-x86_64"
    binary.write_bytes(b"one build")
    mine = Profile(str(binary), profile.version, profile.commands, profile.preconfig,
                   profile.options, profile.schema_file)
    k = kept.key("in-order script", [script], mine)
    kept.store(k, p, files)
    assert kept.load(k) is not None
    assert kept.load(kept.key("in-order script", [script], profile)) is None
    binary.write_bytes(b"another build")
    assert kept.key("in-order script", [script], mine) != k
    assert kept.load(kept.key("in-order script", [script], mine)) is None


def test_the_key_is_compared_in_full_not_by_its_file_name(made, key, monkeypatch):
    p, files = made
    kept.store(key, p, files)
    # another key that lands on the same file
    monkeypatch.setattr(kept, "_path", lambda k, real=kept._path: real(key))
    assert kept.load(key + " but different") is None
    assert kept.load(key) is not None


@pytest.mark.parametrize("garbage", [b"not a pickle at all", b"", b"\x80\x05",
                                     bytes(range(256)), b"\x80\x05K\x01.",
                                     # OverflowError and MemoryError from pickle
                                     b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff",
                                     b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\x00garbage",
                                     b"\x8e\xff\xff\xff\xff\xff\xff\xff\x0f"])
def test_a_corrupt_kept_plan_loads_as_none(made, key, garbage):
    p, files = made
    kept.store(key, p, files)
    with open(kept._path(key), "wb") as f:
        f.write(garbage)
    assert kept.load(key) is None


def test_a_truncated_kept_plan_loads_as_none(made, key):
    p, files = made
    kept.store(key, p, files)
    where = Path(kept._path(key))
    where.write_bytes(where.read_bytes()[:where.stat().st_size // 2])
    assert kept.load(key) is None


def test_a_plan_with_an_inherited_monitor_is_not_kept(write, profile, tmp_path):
    import socket
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(tmp_path / "l.sock"))
        listener.listen()
        fd = listener.fileno()
        p = plan(parse_file(write("fd.qcmd", f"-chardev socket,id=m0,fd={fd},server=on,wait=off",
                                  "-mon chardev=m0,mode=control")), profile)
        assert [m.inherited_fd for m in p.monitors] == [fd]
        k = kept.key("in-order script", ["fd.qcmd"], profile)
        kept.store(k, p, [])
        assert not os.path.exists(kept._path(k))
        assert kept.load(k) is None
    finally:
        listener.close()


def test_an_unwritable_cache_is_no_error(made, key, private_cache):
    import shutil
    p, files = made
    shutil.rmtree(private_cache, ignore_errors=True)     # lark may have kept its tables there
    private_cache.write_text("a file where the cache directory should be")
    kept.store(key, p, files)                 # must not raise
    assert kept.load(key) is None


def test_a_kept_plan_run_from_elsewhere_still_checks_its_includes(tmp_path, write, profile,
                                                                 monkeypatch):
    # the script's include is read relative to the script; the kept plan must
    # check that file, not a path relative to the first working directory
    a = tmp_path / "a"
    a.mkdir()
    (a / "vm.qcmd").write_text("-nodefaults\ninclude inc.qcmd\n")
    (a / "inc.qcmd").write_text("-m 256M\n")
    monkeypatch.chdir(a)
    files = []
    key = kept.key("in-order script", [str(a / "vm.qcmd")], profile)
    kept.store(key, plan(parse_file("vm.qcmd", files=files), profile), files)
    (a / "inc.qcmd").write_text("-m 512M\n")
    monkeypatch.chdir(tmp_path)
    assert kept.load(key) is None
