"""lang/lalr.py runs the tables lark builds for grammar/qcmd.lark: whatever
the text, its outcome is lark's own parser's (the same commands, tokens and
places, or the same error at the same place).

CI runs a bounded number of generated texts; for a long run:

    INORDER_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest -q tests/unit/test_lalr.py
"""

from __future__ import annotations

import os
from pathlib import Path

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inorder.lang import grammar, lalr

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("INORDER_FUZZ_EXAMPLES", "150")) * 4   # each is fast
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Shapes(lark.Transformer):
    """What lalr.Parser gives, from lark's own parser: (rule, children),
    the start rule's children."""

    def start(self, children):
        return children

    def option(self, children):
        return "option", children

    def qmp_words(self, children):
        return "qmp_words", children

    def qmp_json(self, children):
        return "qmp_json", children

    def raw(self, children):
        return "raw", children

    def include(self, children):
        return "include", children


@pytest.fixture(scope="module")
def ours():
    return lalr.Parser(grammar.build())


@pytest.fixture(scope="module")
def theirs():
    return lark.Lark(grammar._grammar_text(), transformer=Shapes(), **grammar.OPTIONS)


def outcome(parse, text: str):
    """The commands with every token's type, text and place; or the error."""
    try:
        tree = parse(text)
    except (lark.exceptions.UnexpectedCharacters, lalr.UnexpectedCharacters) as e:
        return "characters", e.line, e.column, e.pos_in_stream
    except (lark.exceptions.UnexpectedToken, lalr.UnexpectedToken) as e:
        t = e.token
        return "token", t.type, str(t), t.line, t.column
    return [(kind, [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column,
                     t.end_pos) for t in tokens]) for kind, tokens in tree]


# what scripts are made of: whole lines, and the characters that matter to
# the grammar's terminals, in every combination
LINES = ["-machine q35", "-device virtio-net-pci,netdev=n0", '-device {"driver": "x"}',
         "qom-set path=/machine property=x value=1", 'query-status {"a": 1}', "query-status",
         '{"execute": "cont"}', "include other.qcmd", "include", "includes x", "-include x",
         "# a comment", "--preconfig", "-S", "-name 'a b'", '-name "a\\"b"', "-m \\\n 2G"]
PIECES = ["-", "--", "=", ",", "{", "}", '"', "'", "\\", "\\\n", "\\\r\n", "#", " ", "\t", "\f",
          "\v", "\n", "\r\n", "\r", "\x85", "\u2028", "include", "in", "x", "_", ".", "9", "-a",
          "é", "\x00"]
texts = st.lists(st.one_of(st.sampled_from(LINES), st.sampled_from(PIECES), st.text(max_size=4)),
                 max_size=30).map("".join)


@FUZZ
@given(text=texts)
def test_any_text_has_larks_outcome(ours, theirs, text):
    assert outcome(ours.parse, text) == outcome(theirs.parse, text)


@FUZZ
@given(lines=st.lists(st.sampled_from(LINES), max_size=20))
def test_scripts_of_valid_lines_have_larks_outcome(ours, theirs, lines):
    text = "\n".join(lines) + "\n"
    assert outcome(ours.parse, text) == outcome(theirs.parse, text)


def scripts() -> list[Path]:
    found = sorted(ROOT.glob("examples/**/*.qcmd")) + sorted(ROOT.glob("tests/**/*.qcmd"))
    assert found
    return found


@pytest.mark.parametrize("path", scripts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_script_of_the_project_has_larks_outcome(ours, theirs, path):
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.endswith("\n"):
        text += "\n"                           # as parse.py gives it
    assert outcome(ours.parse, text) == outcome(theirs.parse, text)


@pytest.mark.parametrize("text", ["", "\n", "#\n", "-m\n", "include\n", "include x y\n",
                                  "{\n", "-m 1 2\n", "query-status {} x\n", "'\n", "-m '\n",
                                  "\\", "x\\\n", "-m {\"a\":\n 1}\n"])
def test_edge_texts_have_larks_outcome(ours, theirs, text):
    assert outcome(ours.parse, text) == outcome(theirs.parse, text)
