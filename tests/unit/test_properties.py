"""Property-based tests of parse and plan (hypothesis): whatever the input,
the outcome is a plan or inorder-qemu's own located error, never another
exception; and a valid script's plan survives its own textual form.

CI runs a bounded number of examples; for a long run:

    INORDER_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest -q tests/unit/test_properties.py
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inorder.errors import InorderError
from inorder.lang.argv import parse_argv
from inorder.lang.parse import parse_file
from inorder.lang.readconfig import expand
from inorder.plan.planner import plan
from inorder.qemu.options import JSON_OPTIONS, READCONFIG_GROUPS

EXAMPLES = int(os.environ.get("INORDER_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])

# lines a script is made of: valid ones, and the pieces mistakes are made of
VALID = [
    "-nodefaults", "-machine q35", "-m 256M", "-smp 2", "-name guest=vm",
    "-object iothread,id=io0", "-object memory-backend-ram,id=ram0,size=64M",
    "-netdev user,id=n0", "-netdev user,id=n1,hostfwd=tcp::2222-:22",
    "-blockdev driver=null-co,node-name=d0,size=1M",
    "-device virtio-net-pci,netdev=n0,id=nic0", "-device virtio-blk-pci,drive=d0",
    '-device {"driver": "virtio-rng-pci", "id": "rng0"}',
    "-device pcie-root-port,id=rp1,chassis=1", "-device virtio-rng-pci,bus=rp1",
    "-chardev null,id=c0", "-numa node,nodeid=0,memdev=ram0",
    "qom-set path=/machine property=dump-guest-core value=true",
    "qom-get path=/machine property=type", "query-status", "x-exit-preconfig",
    "device_add driver=virtio-rng-pci id=hot0", "-S", "--preconfig", "cont",
    '{"execute": "query-status"}',
]
PIECES = ["-", "--", "=", ",", ",,", "{", "}", "[", "]", '"', "'", "\\", "\\\n", "#", " ", "\t",
          "\n", "\r\n", "\x00", "\f", "\v", "\x85", "\u2028", "\ud800", "id=", "netdev=",
          "include ", "include x.qcmd", "-readconfig ", "9" * 30, "0x10", "1.5G", "on", "off",
          "-device ", "-object ", "-chardev ", "-mon ", "-qmp ", "unix:/tmp/x.sock", "fd=3",
          "server=on", '{"a": ' * 20]
words = st.one_of(st.sampled_from(VALID), st.sampled_from(PIECES), st.text(max_size=12))
scripts = st.lists(words, max_size=25).map("".join)
line_scripts = st.lists(st.sampled_from(VALID), max_size=20).map(lambda ls: "\n".join(ls) + "\n")


def _run(path, profile, **kw):
    files = []
    try:
        commands = expand(parse_file(str(path), files=files), files, READCONFIG_GROUPS)
        return plan(commands, profile, **kw)
    except InorderError as e:
        e.render()                       # every error renders, snippet and all
        return None


@FUZZ
@given(text=scripts, compat=st.booleans())
def test_any_text_plans_or_is_an_error_of_ours(tmp_path, profile, text, compat):
    path = tmp_path / "vm.qcmd"
    path.write_text(text, errors="surrogatepass")
    _run(path, profile, compat=compat)


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_plan_or_are_an_error_of_ours(tmp_path, profile, data):
    path = tmp_path / "vm.qcmd"
    path.write_bytes(data)
    _run(path, profile)


@FUZZ
@given(text=line_scripts, cut=st.integers(min_value=0, max_value=2000))
def test_a_valid_script_cut_anywhere_plans_or_is_an_error_of_ours(tmp_path, profile, text, cut):
    path = tmp_path / "vm.qcmd"
    path.write_text(text[:cut])
    _run(path, profile)


@FUZZ
@given(argv=st.lists(st.one_of(st.sampled_from(["-device", "-object", "-netdev", "-m", "-S",
                                                "-chardev", "-mon", "-qmp", "--", "-numa",
                                                "-blockdev", "-machine", "-readconfig"]),
                               st.sampled_from(VALID).map(lambda l: l.split(" ", 1)[-1]),
                               st.text(max_size=20)), max_size=16))
def test_any_argv_plans_or_is_an_error_of_ours(profile, argv):
    try:
        plan(parse_argv(argv, profile.options, JSON_OPTIONS), profile, compat=True)
    except InorderError as e:
        e.render()


@FUZZ
@given(edges=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=12))
def test_include_graphs_with_cycles_and_missing_files(tmp_path, profile, edges):
    # file i includes file j; file 5 never exists
    for i in range(5):
        lines = ["-nodefaults"] + [f"include f{j}.qcmd" for a, j in edges if a == i]
        (tmp_path / f"f{i}.qcmd").write_text("\n".join(lines) + "\n")
    _run(tmp_path / "f0.qcmd", profile)


@FUZZ
@given(text=line_scripts)
def test_a_valid_plan_survives_its_textual_form(tmp_path, profile, text):
    first = tmp_path / "first.qcmd"
    first.write_text(text)
    planned = _run(first, profile)
    if planned is None:
        return
    commands = parse_file(str(first))
    again = tmp_path / "again.qcmd"
    again.write_text("".join(c.spelling() + "\n" for c in commands))
    replanned = _run(again, profile)
    assert replanned is not None

    def shape(p):
        return [(s.channel, s.phase, s.argv, s.execute, s.arguments) for s in p.steps]
    assert shape(replanned) == shape(planned)


@pytest.mark.parametrize("position", range(0, 24))
def test_double_commas_at_every_position(tmp_path, profile, position):
    base = "virtio-net-pci,netdev=n0,id=nic0"
    arg = base[:position] + ",," + base[position:]
    path = tmp_path / "vm.qcmd"
    path.write_text(f"-nodefaults\n-netdev user,id=n0\n-device '{arg}'\n")
    _run(path, profile)
