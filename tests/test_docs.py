"""Docs are part of the product: the man page renders cleanly, --help answers."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_man_page_is_lint_clean():
    r = subprocess.run(["mandoc", "-Tlint", str(ROOT / "man" / "inorder-qemu.1")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def test_help_describes_phases_and_monitors(iq):
    r = iq("--help")
    assert r.returncode == 0
    for words in ("startup -> preconfig -> machine-ready -> running",
                  "no client ever sees a half-built VM", "-daemonize", "--dry-run", "Exit status"):
        assert words in r.stdout
