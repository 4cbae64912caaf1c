"""The entry point (`inorder-qemu`, `python -m inorder`, a qemu-system-* symlink).

Inherited listening sockets are held before anything else is imported: a
caller such as libvirt may connect the moment it has started us
(run/inherited.py).  Then a kept direct plan is exec'd from its record
(warm.py; the holds are taken back first) before the command line's imports
(getopt, json, re, signal: 15 to 25 ms); any other run goes the whole way
(cli.py).
"""

import sys

from .run.inherited import Inherited


def main() -> int:
    inherited = Inherited.at_start()
    from .warm import exec_kept
    exec_kept(sys.argv, inherited)          # returns only when it cannot exec
    from .cli import main as run_cli        # after the hold: see above
    return run_cli(inherited=inherited)


if __name__ == "__main__":
    sys.exit(main())
