"""The command line: modes and options (inorder.cli), without running anything."""

from __future__ import annotations

import pytest

from inorder.cli import help_text, is_query, parse_options
from inorder.errors import UsageError


def test_a_script_then_its_qemu_arguments():
    o = parse_options(["vm.qcmd", "-S"])
    assert o.script == "vm.qcmd" and o.extra == ["-S"]
    assert o.argv is None


def test_options_stop_at_the_script():
    # everything after the script is QEMU's, as with a shebang line
    o = parse_options(["-v", "--qemu", "/x", "vm.qcmd", "-v", "--dry-run"])
    assert o.verbose and o.qemu == "/x" and o.script == "vm.qcmd"
    assert o.extra == ["-v", "--dry-run"] and not o.dry_run


def test_verbose_and_qemu_before_the_script():
    o = parse_options(["-v", "--qemu", "/x", "vm.qcmd"])
    assert (o.verbose, o.qemu, o.script, o.extra) == (True, "/x", "vm.qcmd", [])


def test_double_dash_is_argv_mode():
    o = parse_options(["--", "-m", "1G"])
    assert o.argv == ["-m", "1G"] and o.script is None


def test_double_dash_alone_is_an_empty_argv():
    assert parse_options(["--"]).argv == []


def test_long_options_may_be_abbreviated():
    o = parse_options(["--dry", "x"])
    assert o.dry_run and o.script == "x"


def test_an_ambiguous_abbreviation_is_a_usage_error():
    # --d: --dry-run or --debug
    with pytest.raises(UsageError) as e:
        parse_options(["--d", "x"])
    assert e.value.exit_status == 2


def test_short_flags_combine():
    o = parse_options(["-nv", "x"])
    assert o.dry_run and o.verbose and o.script == "x"


def test_an_unknown_flag_is_a_usage_error_with_exit_status_2():
    with pytest.raises(UsageError) as e:
        parse_options(["--no-such-flag", "x.qcmd"])
    assert e.value.exit_status == 2
    assert "--no-such-flag" in e.value.message
    assert any("usage: inorder-qemu" in n.message for n in e.value.notes)


def test_qemu_without_its_value_is_a_usage_error():
    with pytest.raises(UsageError) as e:
        parse_options(["--qemu"])
    assert e.value.exit_status == 2


def test_double_dash_as_the_value_of_qemu_is_not_argv_mode():
    o = parse_options(["--qemu", "--"])
    assert o.qemu == "--" and o.argv is None and o.script is None


def test_double_dash_after_qemu_double_dash_is_argv_mode():
    o = parse_options(["--qemu", "--", "--", "-m", "1G"])
    assert o.qemu == "--" and o.argv == ["-m", "1G"]


@pytest.mark.parametrize("words", [["--qemu=/q", "--", "-S"], ["--qemu", "/q", "--", "-S"]])
def test_qemu_then_double_dash_is_argv_mode(words):
    o = parse_options(words)
    assert o.qemu == "/q" and o.argv == ["-S"]


def test_a_double_dash_after_the_script_belongs_to_qemu():
    o = parse_options(["x", "--", "-S"])
    assert o.script == "x" and o.extra == ["--", "-S"] and o.argv is None


def test_every_flag_sets_its_option():
    o = parse_options(["--feed", "--qemu-compat", "--check", "--json", "--debug", "x"])
    assert (o.feed, o.compat, o.check, o.json, o.debug) == (True,) * 5
    assert not o.dry_run and not o.verbose


def test_no_words_ask_for_nothing():
    o = parse_options([])
    assert o.script is None and o.argv is None and o.extra == []


def test_help_and_version():
    assert parse_options(["-h"]).help and parse_options(["--help"]).help
    assert parse_options(["--version"]).version


@pytest.mark.parametrize("argv", [["-version"], ["-machine", "help"],
                                  ["-device", "virtio-net-pci,help"], ["-cpu", "?"], ["-h"],
                                  ["--help"], ["-audio-help"], ["-m", "1G", "-device", "?"]])
def test_queries_are_recognised(argv):
    assert is_query(argv)


@pytest.mark.parametrize("argv", [[], ["-m", "1G"], ["-nodefaults"], ["help"],
                                  ["-device", "help,x"], ["-name", "helper"]])
def test_what_builds_a_vm_is_no_query(argv):
    assert not is_query(argv)


def test_help_text_shows_the_phases_and_the_options():
    text = help_text()
    assert "startup -> preconfig -> machine-ready -> running" in text
    for flag in ("--qemu", "--dry-run", "-n", "--json", "--check", "--qemu-compat", "--feed",
                 "--verbose", "--debug", "--version"):
        assert flag in text
    assert text.startswith("usage: inorder-qemu [OPTIONS] SCRIPT [QEMU-ARGS...]")


def test_stdout_closed_early_ends_quietly_with_sigpipes_status(write, profile, monkeypatch,
                                                                 capsys):
    # `inorder-qemu --dry-run vm.qcmd | head -1`: a closed pipe is no error
    import signal as signals

    from inorder import cli as command_line
    from inorder.qemu import profile as profiles

    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return devnull

    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    monkeypatch.setattr(profiles, "load", lambda binary: profile)
    monkeypatch.setattr(command_line.sys, "stdout", Closed())
    status = command_line.main(["--dry-run", write("vm.qcmd", "-nodefaults", "-m 256M")])
    os.close(devnull)
    assert status == 128 + signals.SIGPIPE
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"])
def test_an_empty_script_is_a_located_error(text, write, profile, monkeypatch, capsys):
    from inorder import cli as command_line
    from inorder.qemu import profile as profiles
    monkeypatch.setattr(profiles, "load", lambda binary: profile)
    path = write("vm.qcmd")
    with open(path, "w") as f:
        f.write(text)
    assert command_line.main(["--dry-run", path]) == 1
    assert "vm.qcmd:1:1: error: nothing to run: the script has no commands" in capsys.readouterr().err


@pytest.mark.parametrize("words, qemu, argv, script", [
    (["--qemu", "--", "vm.qcmd"], "--", None, "vm.qcmd"),
    (["--qemu=--", "--", "-m", "1G"], "--", ["-m", "1G"], None),
    (["--qemu", "--", "--", "-m", "1G"], "--", ["-m", "1G"], None),
    (["--qemu", "--", "--"], "--", [], None),
    (["--qemu=/x", "vm.qcmd", "--"], "/x", None, "vm.qcmd"),
])
def test_a_double_dash_that_is_the_value_of_qemu_does_not_end_the_options(words, qemu, argv, script):
    o = parse_options(words)
    assert (o.qemu, o.argv, o.script) == (qemu, argv, script)
