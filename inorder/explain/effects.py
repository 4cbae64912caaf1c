"""Where QEMU's creation order differs from the written order *in effect*.

Most of QEMU's reordering changes nothing a user can see: an -object is
created before a -chardev written above it, and neither names the other.
What this module reports is what does change something, each with its
consequence:

- a JSON -device written before a key=value one: QEMU creates it after, so
  of two PCI devices without addr= on one bus it takes the later free slot;
- a reference to an id written further on, which QEMU resolves because it
  creates the definition's kind first (a NIC before its -netdev, a -numa
  node before its memory backend): a command line accepts it, an ordered
  script must define the id first;
- a reference QEMU cannot resolve although it may read in order: the
  definition's stage comes after the user's (a -blockdev naming a -drive);
- a -global written after a -device it applies to: QEMU registers every
  -global before it creates any device;
- a -drive if=virtio written before a key=value -device: QEMU appends its
  virtio-blk device to the device list when it opens the drive.
"""

from __future__ import annotations

from ..errors import ScriptError
from ..plan.ids import key_location
from ..qemu import order
from .items import Item

# what each stage is called in a sentence
KINDS = {"early-objects": "objects", "late-objects": "memory backends, filters and the "
          "objects that name a backend", "chardevs": "chardevs", "blockdevs": "block nodes",
          "drives": "drives", "netdevs": "netdevs", "devices": "devices",
          "json-devices": "JSON devices", "numa": "NUMA nodes", "machine-properties":
          "the machine's properties", "monitors": "monitors"}


class Difference:
    __slots__ = ("kind", "items", "text")

    def __init__(self, kind: str, items: list[Item], text: str):
        self.kind = kind
        self.items = items
        self.text = text


def differences(found: list[Item], pci=lambda driver: False) -> list[Difference]:
    """`found` in written order; `pci(driver)`: whether a device type sits on
    a PCI bus (its properties have addr=)."""
    out: list[Difference] = []
    out += _device_order(found, pci)
    out += _forward_references(found)
    out += _late_globals(found)
    out += _virtio_drives(found)
    for d in out:
        for item in d.items:
            item.differences.append(d.text)
    return out


def refused(found: list[Item]) -> None:
    """A reference QEMU cannot resolve: the definition is created in a later
    stage than its user (or further on in the same one).  QEMU exits; so
    does --explain, with the place."""
    for item in found:
        for ref in item.references:
            d = ref.definition
            if d is None or ref.board or d is item:
                continue
            user, definer = _rank(item), _rank(d)
            if definer > user or definer == user and d.index > item.index:
                where = key_location(item.command, item.pairs, ref.key)
                raise ScriptError(
                    f"QEMU creates {_what(item)} before {_what(d)}, which it names "
                    f"({before(item, d)}): QEMU refuses this command line",
                    where).note(d.location, f"{ref.namespace} '{ref.id}' is defined here")


def _device_order(found: list[Item], pci) -> list[Difference]:
    keyval = [i for i in found if i.option == "device" and not i.command.json]
    out = []
    for j in (i for i in found if i.option == "device" and i.command.json):
        after = [k for k in keyval if k.index > j.index]
        if not after:
            continue
        first = after[0]
        text = (f"{j.label()}: this JSON -device is written before {len(after)} key=value "
                f"-device ({first.label()}{' ...' if len(after) > 1 else ''}), but QEMU "
                "creates every key=value -device first")
        rivals = [k for k in after if _same_bus(j, k) and pci(j.kind) and pci(k.kind)
                  and "addr" not in (j.args or {}) and "addr" not in (k.args or {})]
        if rivals:
            text += (f"; consequence: {_name(j)} and {_name(rivals[0])} take the free PCI "
                     f"slots of their bus in QEMU's order, so {_name(rivals[0])} gets the "
                     f"lower slot, not {_name(j)}")
        else:
            text += "; consequence: it is realized after them (a different place in the "\
                    "QOM tree and in boot order ties)"
        out.append(Difference("device-order", [j, *after[:1]], text))
    return out


def _forward_references(found: list[Item]) -> list[Difference]:
    out = []
    for item in found:
        for ref in item.references:
            d = ref.definition
            if d is None or d.index <= item.index:
                continue
            if ref.board:
                why = f"QEMU resolves {ref.key}= only once it has created every object"
            else:
                why = before(d, item)
            text = (f"{item.label()}: names {ref.namespace} '{ref.id}', which is written "
                    f"further on ({d.label()}): {why}, so QEMU accepts it; an ordered script "
                    "defines it first (--to-qcmd moves it up)")
            out.append(Difference("forward-reference", [item, d], text))
    return out


def _late_globals(found: list[Item]) -> list[Difference]:
    out = []
    for g in (i for i in found if i.option == "global" and isinstance(i.command.arg, str)):
        driver = g.command.arg.split("=", 1)[0].rsplit(".", 1)[0]
        earlier = [i for i in found if i.option == "device" and i.kind == driver
                   and i.index < g.index]
        if earlier:
            out.append(Difference("global", [g, *earlier], (
                f"{g.label()}: this -global is written after {earlier[0].label()} "
                f"({driver}), and applies to it all the same: QEMU registers every -global "
                "before it creates any device")))
    return out


def _virtio_drives(found: list[Item]) -> list[Difference]:
    out = []
    for d in (i for i in found if i.option == "drive" and (i.args or {}).get("if") == "virtio"):
        after = [i for i in found if i.option == "device" and not i.command.json
                 and i.index > d.index]
        if after:
            out.append(Difference("drive-device", [d, after[0]], (
                f"{d.label()}: the virtio-blk device of this -drive if=virtio is created after "
                f"every key=value -device, {after[0].label()} too, although written before it "
                "(QEMU adds it to the device list when it opens the drive); consequence: it "
                "takes a later PCI slot")))
    return out


def before(first: Item, then: Item) -> str:
    """'QEMU creates netdevs before devices'."""
    return f"QEMU creates {KINDS.get(first.stage, first.stage)} before " \
           f"{KINDS.get(then.stage, then.stage)}"


def _rank(item: Item) -> int:
    return order.RANKS.get(item.stage, len(order.RANKS))


def _what(item: Item) -> str:
    kind = f" {item.kind}" if item.kind else ""
    return f"-{item.option}{kind} ({item.label()})"


def _name(item: Item) -> str:
    dev_id = (item.args or {}).get("id")
    return f"'{dev_id}'" if isinstance(dev_id, str) else f"{item.kind} ({item.label()})"


def _same_bus(a: Item, b: Item) -> bool:
    return (a.args or {}).get("bus") == (b.args or {}).get("bus")
