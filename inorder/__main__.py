"""The entry point (`inorder-qemu`, `python -m inorder`, a qemu-system-* symlink).

Inherited listening sockets are held before anything else is imported: a
caller such as libvirt may connect the moment it has started us
(run/inherited.py), and the rest of the command line's imports take 15 to
25 ms.
"""

import sys

from .run.inherited import Inherited


def main() -> int:
    inherited = Inherited.at_start()
    from .cli import main as run_cli        # after the hold: see above
    return run_cli(inherited=inherited)


if __name__ == "__main__":
    sys.exit(main())
