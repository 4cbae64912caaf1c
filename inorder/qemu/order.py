"""QEMU's own creation order: in which stage QEMU creates what its argv asks
for, whatever the order it was written in (system/vl.c).

qemu_create_early_backends makes early objects, then chardevs, then block
devices; qemu_create_late_backends makes netdevs, then late objects; -numa is
applied after them, at board init.  When every reference among these points
down this order, QEMU's argv means what the script means, and QEMU can be
given the whole plan at once (plan/direct.py).
"""

from __future__ import annotations

# stage -> rank, in the order QEMU creates them
STAGES = {"early-object": 0, "chardev": 1, "blockdev": 2, "drive": 2, "netdev": 3,
          "late-object": 4, "numa": 5}

# object types QEMU creates late (vl.c object_create_early: they name a
# chardev, netdev or block node, or allocate guest memory): exact names, or
# prefixes ending in '-'
LATE_OBJECTS = ("rng-egd", "qtest", "cryptodev-vhost-user", "vhost-user-blk-server",
                "filter-", "colo-compare", "memory-backend-")


def stage(option: str, qom_type=None) -> str | None:
    """The stage in which QEMU creates what `-option` asks for (for -object,
    by its qom-type); None for what is not a backend."""
    if option == "object":
        late = isinstance(qom_type, str) and any(
            qom_type.startswith(t) if t.endswith("-") else qom_type == t for t in LATE_OBJECTS)
        return "late-object" if late else "early-object"
    return option if option in STAGES else None


def rank(option: str, qom_type=None) -> int | None:
    found = stage(option, qom_type)
    return None if found is None else STAGES[found]
