"""Generated scripts and argv through parse and plan, counted by outcome.

The property tests (tests/unit/test_properties.py) fail on the first input
whose outcome is neither a plan nor a located error of inorder-qemu's; this
counts the outcomes of many, by class, for a closing note or a regression:

    .venv/bin/python tests/fuzz_outcomes.py 100000

No QEMU is started: the profile is the one recorded from QEMU 7.2.  Inputs
are random concatenations of the property tests' valid lines, the pieces
mistakes are made of, and random characters; one in four is an argv.
"""

from __future__ import annotations

import collections
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "unit"))
sys.path.insert(0, str(HERE.parent))

from conftest import DATA, recorded_profile  # noqa: E402
from test_properties import PIECES, VALID  # noqa: E402

from inorder.errors import InorderError  # noqa: E402
from inorder.lang.argv import parse_argv  # noqa: E402
from inorder.lang.parse import parse_file  # noqa: E402
from inorder.lang.readconfig import expand  # noqa: E402
from inorder.plan.planner import plan  # noqa: E402
from inorder.qemu.options import JSON_OPTIONS, READCONFIG_GROUPS  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    os.environ["INORDER_CACHE"] = tempfile.mkdtemp(prefix="iqf-")
    profile = recorded_profile(json.loads((DATA / "profile.json").read_text()))
    rng = random.Random(1)
    path = os.path.join(tempfile.mkdtemp(prefix="iqf-"), "vm.qcmd")
    outcomes: collections.Counter = collections.Counter()
    examples: dict[str, str] = {}

    def word() -> str:
        r = rng.random()
        if r < 0.4:
            return rng.choice(VALID) + "\n"
        if r < 0.8:
            return rng.choice(PIECES)
        return "".join(chr(rng.randrange(0, 0x300)) for _ in range(rng.randrange(1, 6)))

    start = time.monotonic()
    for i in range(n):
        try:
            if i % 4 == 3:
                words = "".join(word() for _ in range(rng.randrange(12))).split()
                commands = parse_argv(words, profile.options, JSON_OPTIONS)
            else:
                with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
                    f.write("".join(word() for _ in range(rng.randrange(25))))
                files: list[str] = []
                commands = expand(parse_file(path, files=files), files, READCONFIG_GROUPS)
            plan(commands, profile, compat=rng.random() < 0.5)
            kind = "planned"
        except InorderError as e:
            first = e.render().split("\n")[0]
            kind = "located error" if first.startswith((path, "argv[")) else "unlocated error"
            examples.setdefault(kind, first)
        except Exception as e:            # a bug: the property tests would fail on it
            kind = f"internal error ({type(e).__name__})"
            examples.setdefault(kind, repr(e)[:200])
        outcomes[kind] += 1
    print(f"{n} inputs in {time.monotonic() - start:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    for kind, text in examples.items():
        if kind != "located error":
            print(f"  {kind}, e.g.: {text}")
    return 0 if set(outcomes) <= {"planned", "located error"} else 1


if __name__ == "__main__":
    sys.exit(main())
