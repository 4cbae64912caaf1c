"""The pieces of --explain and --to-qcmd that need no QEMU: the .args reader,
the stage table, the script words."""

from __future__ import annotations

import pytest

from inorder.errors import ScriptError
from inorder.explain.to_qcmd import word
from inorder.lang import argsfile
from inorder.lang.parse import parse_text
from inorder.lang.source import Source
from inorder.qemu import order


def test_an_args_file_reads_as_the_shell_would(tmp_path):
    f = tmp_path / "vm.args"
    f.write_text("LC_ALL=C \\\nHOME=/var/lib/x \\\n/usr/bin/qemu-system-x86_64 \\\n"
                 "-name 'guest=vm 1' \\\n-object '{\"qom-type\":\"iothread\",\"id\":\"io0\"}' \\\n"
                 "-append \"a \\\"b\\\" c\" # a comment\n")
    found = argsfile.read(str(f))
    assert found.env == {"LC_ALL": "C", "HOME": "/var/lib/x"}
    assert found.binary == "/usr/bin/qemu-system-x86_64"
    assert found.argv == ["-name", "guest=vm 1", "-object", '{"qom-type":"iothread","id":"io0"}',
                          "-append", 'a "b" c']
    # where each word's text begins: inside a quote, after it
    assert found.positions == [(4, 1), (4, 8), (5, 1), (5, 10), (6, 1), (6, 10)]


def test_virsh_domxml_to_native_one_line_reads_the_same(tmp_path):
    f = tmp_path / "vm.args"
    f.write_text("LC_ALL=C /usr/bin/qemu-system-x86_64 -name guest=vm1 -S\n")
    found = argsfile.read(str(f))
    assert (found.binary, found.argv) == ("/usr/bin/qemu-system-x86_64", ["-name", "guest=vm1", "-S"])


def test_an_unterminated_quote_is_located(tmp_path):
    f = tmp_path / "vm.args"
    f.write_text("/usr/bin/qemu-system-x86_64 \\\n-name 'vm1\n")
    with pytest.raises(ScriptError) as e:
        argsfile.read(str(f))
    assert str(e.value.location) == f"{f}:2:7"


@pytest.mark.parametrize("text", ["guest=vm1", "a b", "it's", "{x}", "#1", 'say "hi"', "a\\b",
                                  "tab\there", ""])
def test_a_script_word_reads_back_as_the_argument(text):
    commands = parse_text(Source("t.qcmd", f"-append {word(text)}\n"))
    assert commands[0].arg == text


def test_every_option_stage_is_a_stage():
    assert set(order.OPTION_STAGES.values()) <= set(order.RANKS)
    # the backends keep the order the planner relies on (plan/direct.py)
    ranks = [order.rank(o, t) for o, t in (("object", "iothread"), ("chardev", None),
                                            ("blockdev", None), ("drive", None),
                                            ("netdev", None), ("object", "memory-backend-ram"),
                                            ("numa", None))]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert order.rank("device") is None
    assert order.stage("device", json=True) == "json-devices"
    assert order.stage("object", "thread-context") == "early-options"
