"""QEMU's key=value option syntax (QemuOpts and keyval), with positions.

    -device virtio-net-pci,netdev=n0,id=nic0   implied first key: driver
    -blockdev driver=qcow2,file.driver=file    keyval: dotted keys nest
    -append a,,b                               ',,' is a literal comma

`split` keeps every pair in order with the offset where its key starts, so a
later stage can point at the exact key; `nest` builds the argument object QMP
expects.
"""

from __future__ import annotations


class Pair:
    __slots__ = ("key", "value", "offset", "implied")

    def __init__(self, key: str, value: str, offset: int, implied: bool = False):
        self.key = key
        self.value = value
        self.offset = offset          # where the key (or an implied value) starts
        self.implied = implied

    def __repr__(self) -> str:
        return f"Pair({self.key!r}, {self.value!r}, {self.offset}, {self.implied})"

    @property
    def value_offset(self) -> int:
        return self.offset if self.implied else self.offset + len(self.key) + 1


class Many(list):
    """A key given more than once: QMP takes the list where the schema has an
    array (`-numa node,cpus=0-1,cpus=3`), else the last value wins."""


def split(text: str, implied: str | None, *, keyval: bool = False) -> list[tuple[Pair, str | None]]:
    """Split an option argument into pairs.  Returns (pair, problem) tuples; a
    problem is a message to report at the pair."""
    out: list[tuple[Pair, str | None]] = []
    i, n = 0, len(text)
    first = True
    while i <= n:
        start = i
        # a name ends at the first '=' or ','
        j = i
        while j < n and text[j] not in "=,":
            j += 1
        if j < n and text[j] == "=":
            key = text[i:j]
            value, i = _value(text, j + 1)
            problem = None if key else "empty parameter name"
            out.append((Pair(key, value, start), problem))
        elif first and implied:
            value, i = _value(text, i)
            out.append((Pair(implied, value, start, implied=True), None))
        else:
            name = text[i:j]
            i = j + 1
            if not name:
                if j >= n and out:
                    break        # a trailing comma, as QEMU allows
                out.append((Pair("", "", start), "empty parameter"))
            elif keyval:
                out.append((Pair(name, "", start), f"expected '=' after parameter '{name}'"))
            elif name.startswith("no") and len(name) > 2:
                out.append((Pair(name[2:], "off", start), None))
            else:
                out.append((Pair(name, "on", start), None))
            first = False
            continue
        first = False
        if i >= n:
            break
        i += 1                    # the separating comma
    return out


def _value(text: str, i: int) -> tuple[str, int]:
    """A value runs to the next single ','; ',,' stands for ','."""
    chars = []
    n = len(text)
    while i < n:
        if text[i] == ",":
            if i + 1 < n and text[i + 1] == ",":
                chars.append(",")
                i += 2
                continue
            break
        chars.append(text[i])
        i += 1
    return "".join(chars), i


def option_arguments(pairs: list[Pair], *, dotted: bool) -> dict:
    """An option's argument object, as QEMU reads it: nested, and of a
    repeated id= the first (measured: -netdev user,id=n0,id=n1 and -object
    iothread,id=a,id=b define n0 and a)."""
    args = nest(pairs, dotted=dotted)
    if isinstance(args.get("id"), Many):
        args["id"] = args["id"][0]
    return args


def nest(pairs: list[Pair], *, dotted: bool) -> dict:
    """Build the argument object: dotted keys nest (keyval), numeric members
    become arrays, and repeated keys become Many."""
    root: dict = {}
    for p in pairs:
        path = p.key.split(".") if dotted else [p.key]
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = path[-1]
        old = node.get(last)
        if isinstance(old, Many):
            old.append(p.value)           # in place: 200,000 repeats must stay linear
        elif last in node and not isinstance(old, dict):
            node[last] = Many([old, p.value])
        else:
            node[last] = p.value
    return _arrays(root) if dotted else root


def _arrays(node):
    if not isinstance(node, dict):
        return node
    node = {k: _arrays(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        keys = sorted(node, key=int)
        if [int(k) for k in keys] == list(range(len(keys))):
            return [node[k] for k in keys]
    return node


def get(pairs: list[Pair], key: str) -> Pair | None:
    """The pair QEMU would use for `key`: the last one."""
    for p in reversed(pairs):
        if p.key == key:
            return p
    return None


def plain(value):
    """The argument as QEMU reads it without a schema: a repeated key is its
    last value."""
    if isinstance(value, Many):
        return value[-1]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
