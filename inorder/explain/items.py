"""The items of a command line, each with what QEMU makes of it: its stage
in QEMU's creation order (qemu/order.py), the id it defines, the ids it names.

Items are sorted as QEMU creates them: by stage, then in written order, but
for the order QEMU keeps inside a stage (net/net.c): JSON -netdev (and the
types it parses the same way) before key=value ones, then -nic, then -net.
"""

from __future__ import annotations

from ..lang import optarg
from ..lang.command import Command
from ..qemu import order
from ..qemu.options import BOARD, DEVICE, OPTIONS

# the key of each option whose value says what kind of thing it makes
_TYPE_KEYS = {"device": "driver", "object": "qom-type", "blockdev": "driver", "netdev": "type",
              "chardev": "backend", "numa": "type", "machine": "type", "M": "type",
              "accel": "accel", "audiodev": "driver", "tpmdev": "type", "mon": "mode"}


# -netdev types QEMU parses as keyval and creates with the JSON ones
_MODERN = ("stream", "dgram")


class Reference:
    __slots__ = ("key", "namespace", "id", "board", "definition")

    def __init__(self, key: str, namespace: str, value: str, board: bool):
        self.key = key
        self.namespace = namespace
        self.id = value
        self.board = board            # QEMU resolves it at board init
        self.definition: Item | None = None


class Item:
    __slots__ = ("index", "command", "stage", "kind", "defines", "references", "args",
                 "pairs", "differences")

    def __init__(self, index: int, command: Command, pairs, args):
        self.index = index            # written position among the commands
        self.command = command
        self.pairs = pairs            # key=value pairs as written (None for JSON)
        self.args = args              # the argument as a dict (None for a plain string)
        qom_type = args.get("qom-type") if isinstance(args, dict) else None
        self.stage = order.stage(command.name, qom_type, command.json) if command.is_option \
            else "qmp"
        kind = args.get(_TYPE_KEYS.get(command.name, "")) if isinstance(args, dict) else None
        self.kind = kind if isinstance(kind, str) else None
        self.defines: tuple[str, str] | None = None
        self.references: list[Reference] = []
        self.differences: list[str] = []

    @property
    def option(self) -> str:
        return self.command.name

    @property
    def location(self):
        return self.command.loc

    def sort_key(self) -> tuple[int, int, int]:
        within = 0
        if self.option == "netdev" and not (self.command.json or self.kind in _MODERN):
            within = 1                # net_init_clients: the "modern" netdevs first
        elif self.option in ("nic", "net"):
            within = 2
        return order.RANKS.get(self.stage, len(order.RANKS)), within, self.index

    def label(self) -> str:
        return str(self.location)


def items(commands: list[Command]) -> list[Item]:
    """Every command as an item, in written order, references resolved to the
    item that defines the id (the first definition, as QEMU takes it)."""
    out = []
    for index, cmd in enumerate(commands):
        item = Item(index, cmd, *_args(cmd))
        spec = OPTIONS.get(cmd.name) if cmd.is_option else None
        if spec is not None and isinstance(item.args, dict):
            if spec.defines:
                value = item.args.get(spec.defines[1])
                if isinstance(value, str):
                    item.defines = (spec.defines[0], value)
            for key, use in spec.uses.items():
                value = item.args.get(key)
                if not isinstance(value, str) or not value:
                    continue
                item.references.append(Reference(key, use.namespace, value, use.when == BOARD))
        out.append(item)
    defined: dict[tuple[str, str], Item] = {}
    for item in out:
        if item.defines is not None:
            defined.setdefault(item.defines, item)
    for item in out:
        for ref in item.references:
            ref.definition = defined.get((ref.namespace, ref.id))
            if ref.definition is None and ref.namespace == DEVICE and "." in ref.id:
                # bus=scsi0.0 names a bus of device scsi0 (bus=pci.1, of pci.1)
                ref.definition = defined.get((DEVICE, ref.id.rsplit(".", 1)[0]))
    return out


def creation_order(found: list[Item]) -> list[Item]:
    return sorted(found, key=Item.sort_key)


def _args(cmd: Command):
    if isinstance(cmd.arg, dict):
        return None, cmd.arg
    spec = OPTIONS.get(cmd.name) if cmd.is_option else None
    if not isinstance(cmd.arg, str) or spec is None or spec.syntax is None:
        return None, None
    pairs = [pair for pair, problem in optarg.split(cmd.arg, spec.implied,
                                                    keyval=spec.syntax == "keyval")
             if not problem]
    return pairs, optarg.option_arguments(pairs, dotted=spec.syntax == "keyval")
