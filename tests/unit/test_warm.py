"""The warm start (inorder/warm.py): a kept direct plan is exec'd from its
record, and anything the record no longer vouches for goes the whole way."""

from __future__ import annotations

import os
import socket

import pytest

from inorder import warm
from inorder.lang.argv import parse_argv
from inorder.lang.parse import parse_file
from inorder.plan import kept
from inorder.plan.planner import plan
from inorder.qemu.options import JSON_OPTIONS
from inorder.run.inherited import Inherited

from .conftest import for_binary


class Execd(BaseException):
    """os.execv was called (the unit tier starts no process).  Not an
    Exception: cli.main turns those into an internal error."""


@pytest.fixture
def execs(monkeypatch):
    """What the warm start would exec: [binary, argv...], or None."""
    seen = []

    def execv(binary, argv):
        seen.append(argv)
        raise Execd()
    monkeypatch.setattr(os, "execv", execv)

    def run(*words):
        try:
            warm.exec_kept(["inorder-qemu", *words], Inherited())
        except Execd:
            return seen[-1]
        return None
    run.seen = seen                 # every exec, also those under cli.main
    return run


def keep(script: str, profile, binary: str, extra=(), compat=False):
    """What a first run of `script` keeps (cli._load_or_make)."""
    mine = for_binary(profile, binary)
    files: list[str] = []
    p = plan(parse_file(script, files=files), mine, compat=compat)
    mode, words = warm.mode(compat, False, False, "script"), [os.path.abspath(script), *extra]
    kept.store(kept.key(mode, words, mine), p, files)
    kept.store_record(mode, words, p, files, binary, Inherited())
    return p


def test_a_kept_direct_plan_is_execd_from_its_record(write, profile, binary, execs, tmp_path):
    sock = tmp_path / "m.sock"
    script = write("vm.qcmd", "-nodefaults", "-m 256M", "-netdev user,id=n0",
                   f"-qmp unix:{sock},server=on,wait=off")
    p = keep(script, profile, binary)
    assert p.direct
    assert execs(script) == [binary, *p.direct_argv]
    [record] = [n for n in os.listdir(tmp_path / "inorder-cache" / "plans") if n.endswith(".exec")]
    data = (tmp_path / "inorder-cache" / "plans" / record).read_bytes()
    assert data.startswith(b"inorder-exec 2\0")      # words, not code


def test_no_record_goes_the_whole_way(write, binary, execs):
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    assert execs(script) is None


@pytest.mark.parametrize("words", [["-v", "{script}"], ["--dry-run", "{script}"],
                                   ["--qemu", "{binary}", "{script}"], []])
def test_a_command_line_with_options_goes_the_whole_way(words, write, profile, binary, execs):
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    keep(script, profile, binary)
    assert execs(*[w.format(script=script, binary=binary) for w in words]) is None


def test_an_edited_script_or_include_goes_the_whole_way(write, profile, binary, execs):
    script = write("vm.qcmd", "-nodefaults", "include more.qcmd")
    write("more.qcmd", "-m 256M")
    keep(script, profile, binary)
    assert execs(script) is not None
    write("more.qcmd", "-m 512M")
    assert execs(script) is None


def test_other_words_after_the_script_are_another_plan(write, profile, binary, execs):
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    keep(script, profile, binary)
    assert execs(script, "-S") is None


def test_another_build_of_the_binary_goes_the_whole_way(write, profile, binary, execs):
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    keep(script, profile, binary)
    with open(binary, "ab") as f:
        f.write(b"# upgraded\n")
    assert execs(script) is None


def test_a_monitor_path_that_became_a_file_goes_the_whole_way(write, profile, binary, execs,
                                                               tmp_path):
    sock = tmp_path / "m.sock"
    script = write("vm.qcmd", "-nodefaults", f"-qmp unix:{sock},server=on,wait=off")
    keep(script, profile, binary)
    sock.write_text("a file QEMU would delete")
    assert execs(script) is None           # where cli.py says so at its line
    sock.unlink()
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))                        # a socket left by an earlier QEMU: fine
    s.close()
    assert execs(script) is not None


def test_a_damaged_or_untrusted_record_goes_the_whole_way(write, profile, binary, execs,
                                                          tmp_path):
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    keep(script, profile, binary)
    plans = tmp_path / "inorder-cache" / "plans"
    [record] = [plans / n for n in os.listdir(plans) if n.endswith(".exec")]
    good = record.read_bytes()
    for bad in (good[:len(good) // 2], good.replace(b"\0", b"\n"), b"\xff\xfe", b"",
                good.replace(b"inorder-exec 2", b"inorder-exec 9")):
        record.write_bytes(bad)
        assert execs(script) is None, bad
    record.write_bytes(good)
    assert execs(script) is not None
    record.chmod(0o666)                      # writable by others: not to be trusted
    assert execs(script) is None


def test_the_drop_in_gives_the_plans_warnings_again(profile, binary, monkeypatch, capsys):
    """As qemu-system-*: the argv's key, and its warnings at every start."""
    argv = ["-nodefaults", "-device", "virtio-net-pci,netdev=n0", "-netdev", "user,id=n0"]
    mine = for_binary(profile, binary)
    p = plan(parse_argv(argv, mine.options, JSON_OPTIONS), mine, compat=True)
    assert p.direct and p.warnings
    kept.store_record(warm.mode(True, False, False, "argv"), argv, p, [], binary, Inherited())
    seen = []

    def execv(path, words):
        seen.append(words)
        raise Execd()
    monkeypatch.setattr(os, "execv", execv)
    capsys.readouterr()
    with pytest.raises(Execd):
        warm.exec_kept(["/usr/local/bin/qemu-system-x86_64", *argv], Inherited())
    assert seen == [[binary, *p.direct_argv]]
    assert "warning:" in capsys.readouterr().err


def test_an_argv_word_that_is_not_utf8_survives_the_record(profile, binary, execs):
    """`inorder-qemu -- ARGV`, with a byte that is not UTF-8 in a word."""
    argv = ["-nodefaults", "-name", os.fsdecode(b"caf\xe9")]
    mine = for_binary(profile, binary)
    p = plan(parse_argv(argv, mine.options, JSON_OPTIONS), mine)
    kept.store_record(warm.mode(False, False, False, "argv"), argv, p, [], binary, Inherited())
    assert execs("--", *argv) == [binary, *p.direct_argv]
    assert os.fsdecode(b"caf\xe9") in p.direct_argv


def test_a_plan_kept_under_other_fds_gets_a_record_for_these(write, profile, binary,
                                                             execs, monkeypatch):
    """A script first run from a shell with fds open, then from a caller
    with none: the second run loads the kept plan, and keeps an exec record
    for its own fds (a record's key names them, a plan's does not), so the
    third start is warm."""
    from inorder import cli
    from inorder.qemu import profile as profiles
    monkeypatch.setattr(profiles, "load", lambda binary: for_binary(profile, binary))
    script = write("vm.qcmd", "-nodefaults", "-m 256M")
    seen = execs.seen
    shell = Inherited()
    shell.fds, shell.kinds = [10], ["10:10000"]          # a pipe the shell left open
    with pytest.raises(Execd):
        cli.main([script], shell)
    monkeypatch.setattr(kept, "from_data", lambda data, made=kept.from_data: seen.append("kept")
                        or made(data))
    with pytest.raises(Execd):
        cli.main([script], Inherited())
    assert seen[1] == "kept"                             # the plan was not made again
    assert seen[0] == seen[2]
    assert execs(script) == seen[0]
    assert seen[3] == seen[0] == [binary, "-nodefaults", "-m", "256M"]
