"""The .qcmd language: lines, comments, continuations, quoting, JSON, includes."""

from __future__ import annotations

import subprocess

import pytest

from inorder.errors import ScriptError
from inorder.lang.parse import parse_file

from conftest import Monitor, script, wait_exit


def parse(tmp_path, text, name="vm.qcmd"):
    path = tmp_path / name
    path.write_text(text)
    return parse_file(str(path))


def test_lines_comments_continuations_and_shebang(tmp_path):
    cmds = parse(tmp_path, "#!/usr/bin/env inorder-qemu\n"
                           "\n"
                           "# a comment\n"
                           "-machine q35   # trailing comment\n"
                           "-device virtio-net-pci,\\\n"
                           "netdev=n0\n"
                           "-append \"console=ttyS0 quiet\"\n"
                           "-name 'a b'\n"
                           "-S\n"
                           "-drive file=a#b.img\n")
    assert [(c.name, c.arg) for c in cmds] == [
        ("machine", "q35"),
        ("device", "virtio-net-pci,netdev=n0"),
        ("append", "console=ttyS0 quiet"),
        ("name", "a b"),
        ("S", None),
        ("drive", "file=a#b.img"),
    ]
    assert cmds[0].loc.line == 4 and cmds[-1].loc.line == 10


def test_a_continuation_after_a_space_separates_words(tmp_path):
    # As in the shell: backslash-newline is removed, so indentation on the
    # next line starts a new word, and an option takes one word.
    with pytest.raises(ScriptError) as e:
        parse(tmp_path, "-device virtio-net-pci,\\\n  netdev=n0\n")
    assert "an option takes one argument" in e.value.message
    assert (e.value.location.line, e.value.location.column) == (2, 3)


def test_json_arguments_span_continued_lines(tmp_path):
    cmds = parse(tmp_path, '-device {"driver": "virtio-rng-pci", \\\n'
                           '         "id": "rng0"}   # a comment\n'
                           'qom-set {"path": "/machine", "property": "x", "value": [1, 2]}\n'
                           '{"execute": "query-status", "arguments": {}}\n')
    assert cmds[0].json and cmds[0].arg == {"driver": "virtio-rng-pci", "id": "rng0"}
    assert cmds[1].kind == "qmp" and cmds[1].arg["value"] == [1, 2]
    assert (cmds[2].kind, cmds[2].name, cmds[2].arg) == ("qmp", "query-status", {})


def test_json_error_points_into_a_continued_line(tmp_path):
    with pytest.raises(ScriptError) as e:
        parse(tmp_path, '-device {"driver": "x", \\\n   "id" "y"}\n')
    assert (e.value.location.line, e.value.location.column) == (2, 9)


def test_qmp_shell_values_are_json_where_they_parse(tmp_path):
    [cmd] = parse(tmp_path, 'qom-set path=/machine property=p value=true\n')
    assert cmd.arg == {"path": "/machine", "property": "p", "value": True}
    [cmd] = parse(tmp_path, 'x-cmd a=1 b=[1,2] c=on d.e="two words"\n')
    assert cmd.arg == {"a": 1, "b": [1, 2], "c": "on", "d": {"e": "two words"}}


def test_dashes_are_required_for_options(tmp_path):
    # without a dash a word is a QMP command name: `m 2G` is not `-m 2G`
    with pytest.raises(ScriptError):
        parse(tmp_path, "m 2G\n")
    [cmd] = parse(tmp_path, "--preconfig\n")
    assert (cmd.kind, cmd.name) == ("option", "preconfig")


def test_include_is_relative_and_in_order(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "net.qcmd").write_text("-netdev user,id=n0\ninclude more.qcmd\n")
    (tmp_path / "sub" / "more.qcmd").write_text("-device virtio-net-pci,netdev=n0\n")
    cmds = parse(tmp_path, "-machine q35\ninclude sub/net.qcmd\n-S\n")
    assert [c.name for c in cmds] == ["machine", "netdev", "device", "S"]
    assert cmds[2].loc.source.name.endswith("sub/more.qcmd")
    assert cmds[2].loc.source.included_from.source.name.endswith("sub/net.qcmd")


def test_include_cycle_is_an_error(tmp_path):
    (tmp_path / "a.qcmd").write_text("-m 1G\ninclude b.qcmd\n")
    (tmp_path / "b.qcmd").write_text("include a.qcmd\n")
    with pytest.raises(ScriptError) as e:
        parse_file(str(tmp_path / "a.qcmd"))
    assert "include cycle: a.qcmd -> b.qcmd -> a.qcmd" in e.value.message
    assert e.value.location.source.name.endswith("b.qcmd")


def test_error_in_included_file_names_the_include(iq, tmp_path, launches):
    (tmp_path / "inc.qcmd").write_text("-netdev user,id=n0\n-netdev user,id=n0\n")
    vm = script(tmp_path / "vm.qcmd", "-m 256M", "include inc.qcmd")
    r = iq(vm)
    assert r.returncode == 1
    assert "inc.qcmd:2:17: error: netdev 'n0' is already defined" in r.stderr
    assert "vm.qcmd:5:9: note: included from here" in r.stderr
    assert launches.vms() == []


def test_included_commands_run_at_the_include(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "qmp.sock"
    (tmp_path / "ports.qcmd").write_text("-device pcie-root-port,id=rp2,chassis=2\n")
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 256M", "-S",
                f"-qmp unix:{sock},server=on,wait=off",
                "-device pcie-root-port,id=rp1,chassis=1",
                "include ports.qcmd",
                "-device pcie-root-port,id=rp3,chassis=3")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        addrs = [mon("qom-get", path=f"/machine/peripheral/rp{i}", property="addr") for i in (1, 2, 3)]
    finally:
        mon.quit()
    assert addrs == [8, 16, 24]
    assert wait_exit(proc)[0] == 0


def test_example_runs_to_completion_and_shows_the_order(env):
    import sys
    r = subprocess.run([sys.executable, "-m", "inorder", "examples/q35-in-order.qcmd"],
                       env=env["env"], capture_output=True, text=True, timeout=60,
                       cwd=__import__("pathlib").Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "2 nodes"
    assert "8\n16\n/machine/peripheral/rp1/rp1\n" in r.stdout
    assert '"status": "running"' in r.stdout


def test_readconfig_sections_run_at_its_position(iq_bg, tmp_path, sockdir, name):
    sock = sockdir / "qmp.sock"
    (tmp_path / "net.cfg").write_text(
        '# QEMU -readconfig format\n'
        '[netdev "n0"]\n  type = "user"\n\n'
        '[device "nic0"]\n  driver = "virtio-net-pci"\n  netdev = "n0"\n')
    vm = script(tmp_path / "vm.qcmd", "-machine q35", f"-name guest={name}", "-m 256M", "-S",
                f"-qmp unix:{sock},server=on,wait=off",
                "-device virtio-rng-pci,id=rng0",
                "-readconfig net.cfg",
                "-device virtio-balloon-pci,id=balloon0")
    proc = iq_bg(vm)
    mon = Monitor(sock)
    try:
        addrs = [mon("qom-get", path=f"/machine/peripheral/{d}", property="addr")
                 for d in ("rng0", "nic0", "balloon0")]
    finally:
        mon.quit()
    assert addrs == [8, 16, 24]
    assert wait_exit(proc)[0] == 0


def test_readconfig_errors_point_into_the_file(iq, tmp_path, launches):
    (tmp_path / "bad.cfg").write_text('[device "nic0"]\n  driver = "virtio-net-pci"\n  netdev = "nope"\n')
    vm = script(tmp_path / "vm.qcmd", "-m 256M", "-readconfig bad.cfg")
    r = iq(vm)
    assert r.returncode == 1
    assert "bad.cfg:1:1: error: netdev 'nope' is used before it is defined" in r.stderr
    assert "vm.qcmd:5:13: note: included from here" in r.stderr
    (tmp_path / "bad.cfg").write_text('[device "nic0"]\n  driver = virtio-net-pci\n')
    r = iq(vm)
    assert r.returncode == 1 and "bad.cfg:2:3: error: expected [group]" in r.stderr
    assert launches.vms() == []
