"""YAML and JSON configurations -> commands (inorder.lang.config): the same
commands as the script, every error at its line and column."""

from __future__ import annotations

import pytest

from inorder.errors import ScriptError
from inorder.lang.config import parse_config
from inorder.lang.parse import parse_file
from inorder.plan.planner import plan


def test_yaml_is_the_script_it_writes(write, profile):
    yaml_path = write("vm.yaml", "- -nodefaults: null", "- -m: 256M",
                      "- -netdev: user,id=n0",
                      "- -device: {driver: virtio-net-pci, netdev: n0, id: nic0}",
                      "- execute: qom-set",
                      "  arguments: {path: /machine, property: dump-guest-core, value: true}",
                      "- query-status: null")
    script = write("vm.qcmd", "-nodefaults", "-m 256M", "-netdev user,id=n0",
                   '-device {"driver": "virtio-net-pci", "netdev": "n0", "id": "nic0"}',
                   'qom-set {"path": "/machine", "property": "dump-guest-core", "value": true}',
                   "query-status")
    a, b = plan(parse_config(yaml_path), profile), plan(parse_file(script), profile)
    assert a.argv() == b.argv()
    assert [(s.execute, s.arguments) for s in a.qmp_steps] == \
        [(s.execute, s.arguments) for s in b.qmp_steps]


def test_an_error_in_an_option_string_points_into_it(write, profile):
    path = write("vm.yaml", "- -nodefaults: null", '- -device: "virtio-rng-pci,id=r0"',
                 "- -device: virtio-rng-pci,id=r0")
    with pytest.raises(ScriptError) as e:
        plan(parse_config(path), profile)
    assert (e.value.location.line, e.value.location.column) == (3, 30)
    assert (e.value.notes[0].location.line, e.value.notes[0].location.column) == (2, 31)


@pytest.mark.parametrize("lines, message, where", [
    (["- -m: 1G", "- bogus"], "each item is an option", (2, 3)),
    (["- {-m: 1G, -smp: 2}"], "an item has one key", (1, 3)),
    (["- execute: cont", "  bogus: 1"], "unexpected member 'bogus'", (2, 3)),
    (["- -device: [1, 2]"], "the argument of -device is a string", (1, 12)),
    (["- qom-get: [1]"], "the arguments of 'qom-get' are a mapping", (1, 12)),
    (["-m: 1G"], "a configuration is a list", (1, 1)),
    (["- -m: [1G"], "not YAML", (2, 1)),
])
def test_a_bad_configuration_is_located(write, lines, message, where):
    with pytest.raises(ScriptError) as e:
        parse_config(write("vm.yaml", *lines))
    assert message in e.value.message
    assert (e.value.location.line, e.value.location.column) == where
    e.value.render()


def test_json_is_read_the_same_way(write):
    path = write("vm.json", '[{"-nodefaults": null},', ' {"execute": "query-status", "bogus": 1}]')
    with pytest.raises(ScriptError) as e:
        parse_config(path)
    assert (e.value.location.line, e.value.location.column) == (2, 30)


def test_an_empty_configuration_has_no_commands(write):
    assert parse_config(write("vm.yaml", "# nothing")) == []
