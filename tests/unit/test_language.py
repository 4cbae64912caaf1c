"""The .qcmd language, -readconfig and QEMU argv, parsed without QEMU."""

from __future__ import annotations

import os

import pytest

from inorder.errors import ScriptError
from inorder.lang.argv import parse_argv
from inorder.lang.parse import parse_file, parse_text, unquote
from inorder.lang.readconfig import expand
from inorder.lang.source import Source
from inorder.qemu.options import JSON_OPTIONS, READCONFIG_GROUPS


@pytest.fixture
def parse(write):
    def parse(*lines, name="vm.qcmd"):
        return parse_file(write(name, *lines))
    return parse


@pytest.fixture
def error(parse):
    """The ScriptError of a script: (message, "line:col")."""
    def error(*lines, name="vm.qcmd"):
        with pytest.raises(ScriptError) as e:
            parse(*lines, name=name)
        loc = e.value.location
        return e.value.message, f"{loc.line}:{loc.column}"
    return error


def where(cmd) -> tuple[int, int]:
    return cmd.loc.line, cmd.loc.column


# -- lines, comments, quoting ---------------------------------------------------

def test_lines_comments_continuations_and_shebang(parse):
    cmds = parse("#!/usr/bin/env inorder-qemu",
                 "",
                 "# a comment",
                 "-machine q35   # trailing comment",
                 "-device virtio-net-pci,\\",
                 "netdev=n0",
                 '-append "console=ttyS0 quiet"',
                 "-name 'a b'",
                 "-S",
                 "-drive file=a#b.img")
    assert [(c.name, c.arg) for c in cmds] == [
        ("machine", "q35"),
        ("device", "virtio-net-pci,netdev=n0"),
        ("append", "console=ttyS0 quiet"),
        ("name", "a b"),
        ("S", None),
        ("drive", "file=a#b.img"),
    ]
    assert where(cmds[0]) == (4, 1) and cmds[-1].loc.line == 10
    assert all(c.kind == "option" for c in cmds)


def test_crlf_line_ends_are_accepted(tmp_path):
    path = tmp_path / "dos.qcmd"
    path.write_bytes(b"-m 1G\r\n-S\r\n")
    assert [(c.name, c.arg) for c in parse_file(str(path))] == [("m", "1G"), ("S", None)]


def test_a_file_without_a_final_newline_parses(tmp_path):
    path = tmp_path / "vm.qcmd"
    path.write_text("-m 1G\n-S")
    assert [c.name for c in parse_file(str(path))] == ["m", "S"]


def test_an_empty_file_has_no_commands(parse):
    assert parse() == []
    assert parse("# only a comment", "") == []


def test_the_argument_location_points_at_the_argument(parse):
    [cmd] = parse("-device   virtio-rng-pci,id=r0")
    assert (cmd.arg_loc.line, cmd.arg_loc.column) == (1, 11)
    assert str(cmd.arg_at(15)) == cmd.loc.source.name + ":1:26"


def test_double_quotes_escape_and_single_quotes_do_not():
    assert unquote('"a \\"q\\" b"') == 'a "q" b'
    assert unquote("'a \\n b'") == "a \\n b"
    assert unquote("a\\ b") == "a b"
    assert unquote('x="1 2"') == "x=1 2"
    assert unquote("plain") == "plain"


def test_a_continuation_after_a_space_separates_words(error):
    # As in the shell: backslash-newline is removed, so indentation on the
    # next line starts a new word, and an option takes one word.
    message, at = error("-device virtio-net-pci,\\", "  netdev=n0")
    assert "an option takes one argument" in message
    assert at == "2:3"


def test_two_arguments_are_an_error_at_the_second(error):
    message, at = error("-m 1G 2G")
    assert message.startswith("unexpected '2G'") and at == "1:7"


def test_dashes_are_required_for_options(parse, error):
    # without a dash a word is a QMP command name: `m 2G` is not `-m 2G`
    message, at = error("m 2G")
    assert message.startswith("expected KEY=VALUE") and at == "1:3"
    [cmd] = parse("--preconfig")
    assert (cmd.kind, cmd.name) == ("option", "preconfig")


def test_an_unexpected_character_is_located(error):
    message, at = error("-m 1G", "  @foo")
    assert "'@foo'" in message and at == "2:3"


# -- JSON -------------------------------------------------------------------------

def test_json_arguments_span_continued_lines(parse):
    cmds = parse('-device {"driver": "virtio-rng-pci", \\',
                 '         "id": "rng0"}   # a comment',
                 'qom-set {"path": "/machine", "property": "x", "value": [1, 2]}',
                 '{"execute": "query-status", "arguments": {}}')
    assert cmds[0].json and cmds[0].arg == {"driver": "virtio-rng-pci", "id": "rng0"}
    assert cmds[1].kind == "qmp" and cmds[1].json and cmds[1].arg["value"] == [1, 2]
    assert (cmds[2].kind, cmds[2].name, cmds[2].arg) == ("qmp", "query-status", {})


def test_malformed_json_is_located_at_the_fault(error):
    assert error('-object {"qom-type": "iothread" "id": "io0"}') == (
        "malformed JSON: Expecting ',' delimiter", "1:33")


def test_json_error_points_into_a_continued_line(error):
    message, at = error('-device {"driver": "x", \\', '   "id" "y"}')
    assert message.startswith("malformed JSON") and at == "2:9"


def test_text_after_a_json_object_is_an_error_but_a_comment_is_not(parse, error):
    assert error('-device {"a": 1} trailing') == (
        "malformed JSON: unexpected text after the JSON object", "1:17")
    [cmd] = parse('-device {"a": 1} # comment')
    assert cmd.arg == {"a": 1}


def test_an_unclosed_json_object_is_located(error):
    message, at = error('-m 1G', '-device {"a": 1,')
    assert message.startswith("malformed JSON") and at == "2:16"


def test_raw_qmp_lines_must_be_commands(error):
    assert error('{"arguments": {}}')[0].startswith("a JSON line must be a QMP command")
    assert error('{"execute": "cont", "extra": 1}') == (
        "unexpected member 'extra' in a QMP command", "1:1")
    assert error('{"execute": "cont", "arguments": []}')[0] == "'arguments' must be a JSON object"


def test_a_raw_qmp_line_keeps_its_arguments(parse):
    [cmd] = parse('{"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}, "id": 3}')
    assert (cmd.kind, cmd.name, cmd.arg) == ("qmp", "qom-get", {"path": "/machine", "property": "type"})


# -- qmp-shell words ------------------------------------------------------------------

def test_qmp_shell_values_are_json_where_they_parse(parse):
    [cmd] = parse("qom-set path=/machine property=p value=true")
    assert cmd.arg == {"path": "/machine", "property": "p", "value": True}
    [cmd] = parse('x-cmd a=1 b=[1,2] c=on d.e="two words"')
    assert cmd.arg == {"a": 1, "b": [1, 2], "c": "on", "d": {"e": "two words"}}


def test_qmp_shell_keys_remember_where_they_were_written(parse):
    [cmd] = parse("qom-set path=/machine property=p value=1")
    assert {k: (l.line, l.column) for k, l in cmd.key_locs.items()} == {
        "path": (1, 9), "property": (1, 23), "value": (1, 34)}


def test_qmp_shell_word_without_equals_is_an_error(error):
    assert error("qom-list /machine") == (
        "expected KEY=VALUE (qmp-shell style) or one JSON object", "1:10")


def test_qmp_shell_value_then_object_is_an_error(error):
    assert error("x-cmd a=2 a.b=1") == ("'a' is both a value and an object", "1:11")


def test_qmp_shell_object_then_value_is_an_error(error):
    # as qmp-shell refuses it; the value must not silently drop a.b
    assert error("x-cmd a.b=1 a=2") == ("'a' is both an object and a value", "1:13")


def test_a_command_without_arguments_has_empty_arguments(parse):
    [cmd] = parse("query-status")
    assert (cmd.kind, cmd.arg, cmd.json) == ("qmp", {}, False)
    assert cmd.spelling() == "query-status"


# -- include ------------------------------------------------------------------------

def test_include_is_relative_to_the_including_file_and_in_order(tmp_path, write, parse):
    write("sub/net.qcmd", "-netdev user,id=n0", "include more.qcmd")
    write("sub/more.qcmd", "-device virtio-net-pci,netdev=n0")
    cmds = parse("-machine q35", "include sub/net.qcmd", "-S")
    assert [c.name for c in cmds] == ["machine", "netdev", "device", "S"]
    assert cmds[2].loc.source.name.endswith("sub/more.qcmd")
    included_from = cmds[2].loc.source.included_from
    assert included_from.source.name.endswith("sub/net.qcmd") and included_from.line == 2
    assert cmds[1].loc.source.included_from.line == 2
    assert cmds[3].loc.source.included_from is None


def test_include_relative_to_the_file_not_the_working_directory(tmp_path, write, monkeypatch):
    write("d/inc.qcmd", "-m 1G")
    write("inc.qcmd", "-m 2G")                # what the working directory would give
    vm = write("d/vm.qcmd", "include inc.qcmd")
    monkeypatch.chdir(tmp_path)
    assert [c.arg for c in parse_file(vm)] == ["1G"]


def test_an_absolute_include_is_taken_as_is(write, parse):
    inc = write("elsewhere/abs.qcmd", "-smp 2")
    assert [c.name for c in parse(f"include {inc}")] == ["smp"]


def test_include_cycle_is_an_error(tmp_path, write):
    write("a.qcmd", "-m 1G", "include b.qcmd")
    write("b.qcmd", "include a.qcmd")
    with pytest.raises(ScriptError) as e:
        parse_file(str(tmp_path / "a.qcmd"))
    assert "include cycle: a.qcmd -> b.qcmd -> a.qcmd" in e.value.message
    assert e.value.location.source.name.endswith("b.qcmd")
    assert (e.value.location.line, e.value.location.column) == (1, 9)


def test_a_file_including_itself_is_a_cycle(tmp_path, write):
    write("self.qcmd", "include self.qcmd")
    with pytest.raises(ScriptError) as e:
        parse_file(str(tmp_path / "self.qcmd"))
    assert e.value.message == "include cycle: self.qcmd -> self.qcmd"


def test_the_same_file_included_twice_is_no_cycle(write, parse):
    write("one.qcmd", "-device virtio-rng-pci")
    assert [c.name for c in parse("include one.qcmd", "include one.qcmd")] == ["device", "device"]


def test_a_missing_include_is_located_at_its_name(error):
    message, at = error("-m 1G", "include nope.qcmd")
    assert message.startswith("cannot read") and "nope.qcmd" in message and at == "2:9"


def test_files_collects_every_file_read(tmp_path, write):
    write("inc.qcmd", "-m 1G")
    vm = write("vm.qcmd", "include inc.qcmd")
    files = []
    parse_file(vm, files=files)
    assert [os.path.basename(f) for f in files] == ["vm.qcmd", "inc.qcmd"]


def test_a_file_that_is_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "bin.qcmd"
    path.write_bytes(b"\xff\xfe-m 1G\n")
    with pytest.raises(ScriptError) as e:
        parse_file(str(path))
    assert "is not UTF-8 text" in e.value.message


def test_an_error_in_an_included_file_renders_the_include_chain(write, parse):
    write("inc.qcmd", "-m 1G 2G")
    with pytest.raises(ScriptError) as e:
        parse("-S", "include inc.qcmd")
    text = e.value.render()
    assert "inc.qcmd:1:7: error: unexpected '2G'" in text
    assert "vm.qcmd:2:9: note: included from here" in text
    assert " 1 | -m 1G 2G\n   |       ^~" in text


def test_parse_text_returns_includes_as_paths_with_locations():
    items = parse_text(Source("mem", "-m 1G\ninclude 'a b.qcmd'\n"))
    assert items[0].name == "m"
    path, loc = items[1]
    assert path == "a b.qcmd" and (loc.line, loc.column) == (2, 9)


# -- -readconfig ---------------------------------------------------------------------

def test_readconfig_sections_become_options_at_its_position(write, parse):
    write("cfg/net.cfg",
          "# QEMU -readconfig format",
          '[netdev "n0"]', '  type = "user"', "",
          '[device "nic0"]', '  driver = "virtio-net-pci"', '  netdev = "n0"',
          "[memory]", '  size = "1G"',
          "[machine]", '  append = "a,b"')
    files = []
    cmds = expand(parse("-m 256M", "-readconfig cfg/net.cfg", "-S"), files, READCONFIG_GROUPS)
    assert [(c.name, c.arg) for c in cmds] == [
        ("m", "256M"),
        ("netdev", "id=n0,type=user"),
        ("device", "id=nic0,driver=virtio-net-pci,netdev=n0"),
        ("m", "size=1G"),                       # [memory] is -m
        ("machine", "append=a,,b"),             # a comma in a value is escaped
        ("S", None),
    ]
    assert str(cmds[2].loc).endswith("cfg/net.cfg:5:1")
    assert str(cmds[2].loc.source.included_from).endswith("vm.qcmd:2:13")
    assert [os.path.basename(f) for f in files] == ["net.cfg"] and os.path.isabs(files[0])


def test_without_readconfig_the_commands_are_unchanged(parse):
    cmds = parse("-m 1G")
    assert expand(cmds, [], READCONFIG_GROUPS) is cmds


@pytest.mark.parametrize("lines, message, at", [
    (['[device "nic0"]', "  driver = virtio-net-pci"],
     'expected [group], [group "id"] or key = "value"', "2:3"),
    (['  driver = "x"'], "a key outside any [group]", "1:3"),
    (['[device "a"]', "", "   # c", '   = "x"'], 'expected [group], [group "id"] or key = "value"', "4:4"),
])
def test_readconfig_errors_point_into_the_file(write, parse, lines, message, at):
    write("bad.cfg", *lines)
    cmds = parse("-m 1G", "-readconfig bad.cfg")
    with pytest.raises(ScriptError) as e:
        expand(cmds, [], READCONFIG_GROUPS)
    loc = e.value.location
    assert e.value.message == message
    assert loc.source.name.endswith("bad.cfg") and f"{loc.line}:{loc.column}" == at
    assert str(loc.source.included_from).endswith("vm.qcmd:2:13")
    assert "vm.qcmd:2:13: note: included from here" in e.value.render()


def test_a_missing_readconfig_file_is_located_at_its_name(parse):
    cmds = parse("-readconfig missing.cfg")
    with pytest.raises(ScriptError) as e:
        expand(cmds, [], READCONFIG_GROUPS)
    assert e.value.message.startswith("cannot read") and e.value.location.column == 13


def test_readconfig_from_argv_is_relative_to_the_working_directory(tmp_path, monkeypatch,
                                                                   profile):
    (tmp_path / "x.cfg").write_text('[device]\n  driver = "virtio-rng-pci"\n')
    monkeypatch.chdir(tmp_path)
    cmds = parse_argv(["-readconfig", "x.cfg"], profile.options, JSON_OPTIONS)
    assert [(c.name, c.arg) for c in expand(cmds, [], READCONFIG_GROUPS)] == [
        ("device", "driver=virtio-rng-pci")]


# -- argv ----------------------------------------------------------------------------

def test_argv_arity_comes_from_the_profile(profile):
    cmds = parse_argv(["-m", "1G", "-S", "-nodefaults", "-smp", "2", "--preconfig"],
                      profile.options, JSON_OPTIONS)
    assert [(c.name, c.arg) for c in cmds] == [
        ("m", "1G"), ("S", None), ("nodefaults", None), ("smp", "2"), ("preconfig", None)]
    assert [str(c.loc) for c in cmds] == ["argv[0]", "argv[2]", "argv[3]", "argv[4]", "argv[6]"]
    assert str(cmds[0].arg_loc) == "argv[1]"


def test_argv_json_argument_for_device(profile):
    [cmd] = parse_argv(["-device", '{"driver":"virtio-rng-pci"}'], profile.options, JSON_OPTIONS)
    assert cmd.json and cmd.arg == {"driver": "virtio-rng-pci"}
    # QEMU gets the JSON as the caller wrote it
    assert cmd.words() == ["-device", '{"driver":"virtio-rng-pci"}']


def test_argv_json_only_for_options_that_take_it(profile):
    [cmd] = parse_argv(["-m", '{"size": 1}'], profile.options, JSON_OPTIONS)
    assert not cmd.json and cmd.arg == '{"size": 1}'


def test_argv_malformed_json_is_located_in_the_argument(profile):
    with pytest.raises(ScriptError) as e:
        parse_argv(["-m", "1G", "-device", '{"driver": x}'], profile.options, JSON_OPTIONS)
    assert e.value.message.startswith("malformed JSON")
    assert str(e.value.location) == "argv[3]"
    assert e.value.location.column == len("-device ") + 1 + len('{"driver": ')


def test_argv_a_word_that_is_not_an_option_is_a_disk_image(profile):
    [cmd] = parse_argv(["disk.img"], profile.options, JSON_OPTIONS)
    assert (cmd.name, cmd.arg, str(cmd.loc)) == ("hda", "disk.img", "argv[0]")


def test_argv_unknown_option_is_located_at_its_index(profile):
    with pytest.raises(ScriptError) as e:
        parse_argv(["-accel", "tcg", "-bogus"], profile.options, JSON_OPTIONS)
    assert e.value.message == "unknown option '-bogus'"
    assert str(e.value.location) == "argv[2]"
    assert e.value.render().startswith("argv[2]: error: unknown option '-bogus'\n 2 | -bogus\n")


def test_argv_missing_argument_is_located_at_the_option(profile):
    with pytest.raises(ScriptError) as e:
        parse_argv(["-accel", "tcg", "-m"], profile.options, JSON_OPTIONS)
    assert e.value.message == "option '-m' requires an argument"
    assert str(e.value.location) == "argv[2]"


def test_argv_source_name_is_the_callers(profile):
    [cmd] = parse_argv(["-S"], profile.options, JSON_OPTIONS, name="args")
    assert cmd.loc.source.name == "args" and cmd.loc.is_argv


def test_a_captured_transcript_parses_as_its_commands(write):
    # as `socat` or a -qmp log shows a session: the greeting, the handshake,
    # answers with ids, events between
    path = write("t.qcmd",
        '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}',
        '{"execute": "qmp_capabilities"}',
        '{"return": {}}',
        '{"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}, "id": 7}',
        '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 0}}',
        '{"return": "pc-q35-7.2-machine", "id": 7}',
        '{"execute": "query-nothing"}',
        '{"error": {"class": "CommandNotFound", "desc": "The command query-nothing has not been found"}}')
    commands = parse_file(path)
    assert [c.name for c in commands] == ["qmp_capabilities", "qom-get", "query-nothing"]
    assert commands[0].expect[0] == {"return": {}}
    assert commands[1].expect[0]["return"] == "pc-q35-7.2-machine"
    assert (commands[1].expect[1].line, commands[1].expect[1].column) == (6, 1)
    assert commands[2].expect[0]["error"]["class"] == "CommandNotFound"


def test_a_json_line_that_is_neither_side_of_qmp_is_an_error(write):
    with pytest.raises(ScriptError) as e:
        parse_file(write("t.qcmd", '{"arguments": {}}'))
    assert e.value.message.startswith("a JSON line must be a QMP command")
