"""Docs are part of the product: the man page renders cleanly, --help answers."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


PAGES = [ROOT / "man" / "inorder-qemu.1", ROOT / "man" / "qcmd.5"]


def test_man_pages_are_lint_clean_and_render():
    for page in PAGES:
        r = subprocess.run(["mandoc", "-Tlint", str(page)], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr
        r = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                           env={"MANPAGER": "cat", "PATH": "/usr/bin:/bin", "TERM": "dumb"})
        assert r.returncode == 0 and "DESCRIPTION" in r.stdout, r.stderr


def test_help_describes_phases_and_monitors(iq):
    r = iq("--help")
    assert r.returncode == 0
    for words in ("startup -> preconfig -> machine-ready -> running",
                  "no client ever sees a half-built VM", "-daemonize", "--dry-run", "Exit status"):
        assert words in r.stdout


def test_the_handler_tables_are_the_option_tables():
    # README and qcmd(5) show what each option does at each phase, as the
    # option table and plan/channel.py's HANDLERS say
    from inorder.plan.channel import handler_rows
    from inorder.qemu.options import OPTIONS
    readme = (ROOT / "README.md").read_text()
    page = (ROOT / "man" / "qcmd.5").read_text()
    for row in handler_rows(OPTIONS):
        name = f"`{row[0]}`" if row[0].startswith("-") else row[0]
        assert "| " + " | ".join([name, *row[1:]]) + " |" in readme, row
        assert "\t".join(c.replace("-", "\\-") for c in row) in page, row
