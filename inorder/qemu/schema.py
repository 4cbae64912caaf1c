"""Typing key=value arguments for QMP, driven by the binary's own QMP schema.

QEMU's command line hands strings to a keyval visitor that converts them; QMP
wants typed JSON (`"size": 536870912`, `"ipv4": true`).  The schema from
`query-qmp-schema` says which type each member has, so the conversion needs no
per-option table.  A string that does not convert is passed through unchanged:
QEMU then rejects it with its own message.
"""

from __future__ import annotations

import re

from ..lang.optarg import Many, plain

# applied to the stripped text: one \s* only (adjacent ones backtrack
# quadratically on a long run of spaces)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([bkmgtpeBKMGTPE]?)")
# a range of integers is expanded for QMP (`0-3`); one longer than this is
# left as written, for QEMU to refuse with its own message
MAX_RANGE = 1 << 16
_SUFFIX = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30,
           "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}
TRUE = {"on", "yes", "true", "y"}      # how QEMU spells a boolean in key=value
FALSE = {"off", "no", "false", "n"}
_TRUE, _FALSE = TRUE, FALSE


def parse_size(text: str, default_suffix: str = "") -> int | None:
    """QEMU's size syntax: 1024-based suffixes, fractions only with a suffix.
    Integers in hex or octal are accepted as QEMU's strtoi does."""
    t = text.strip()
    try:
        return int(t, 0)                  # 0x1000, 4096
    except ValueError:
        pass
    m = _SIZE.fullmatch(t)
    if not m:
        return None
    number, suffix = m.groups()
    if "." in number and not suffix:
        return None
    try:
        return int(float(number) * _SUFFIX[(suffix or default_suffix).lower()])
    except OverflowError:         # 400 digits and a suffix: no size at all
        return None


class Schema:
    """The introspected QMP schema of one binary."""

    def __init__(self, entries: list[dict]):
        self._types = {e["name"]: e for e in entries}

    def has_command(self, name: str) -> bool:
        e = self._types.get(name)
        return e is not None and e.get("meta-type") == "command"

    def _arg_type(self, command: str) -> dict | None:
        entry = self._types.get(command)
        if entry is None or entry.get("meta-type") != "command":
            return None
        return self._types.get(entry["arg-type"])

    def _members_of(self, t: dict, value) -> list[dict]:
        """An object type's members, and those of the variant `value` picks
        by the type's tag (a flat union)."""
        members = list(t.get("members", []))
        tag = t.get("tag")
        if tag and isinstance(value, dict) and isinstance(value.get(tag), str):
            for variant in t.get("variants", []):
                if variant["case"] == value[tag]:
                    members += self._types.get(variant["type"], {}).get("members", [])
                    break
        return members

    def members(self, command: str, value: dict) -> dict[str, bool] | None:
        """The members `command` takes, each with whether it is required,
        given the variant `value` picks by its tag; None when not known."""
        t = self._arg_type(command)
        if t is None or t.get("meta-type") != "object":
            return None
        return {m["name"]: "default" not in m for m in self._members_of(t, value)}

    def unknown_nested(self, command: str, value: dict):
        """The first key of a nested object in `value` (blockdev-add's file=,
        its file's file=, ...) that the object's type does not have: (the
        path of keys to it, the names it could be); None if there is none.
        The top level is the caller's (members).  A nested flat union is
        checked only when its tag is given (without it QEMU asks for it)."""
        t = self._arg_type(command)
        return self._unknown_in(t, value, []) if t is not None else None

    def _unknown_in(self, t: dict, value: dict, path: list[str]):
        if path and t.get("tag") and not isinstance(value.get(t["tag"]), str):
            return None
        members = {m["name"]: m for m in self._members_of(t, value)}
        for key, v in value.items():
            m = members.get(key)
            if m is None:
                if path:
                    return path + [key], sorted(members)
                continue
            sub = self._object_type(m["type"]) if isinstance(v, dict) else None
            if sub is not None:
                found = self._unknown_in(sub, v, path + [key])
                if found is not None:
                    return found
        return None

    def _object_type(self, name: str) -> dict | None:
        """The object type a member of type `name` takes as a dict (an
        alternate's object branch: BlockdevRef is BlockdevOptions or str)."""
        t = self._types.get(name, {})
        if t.get("meta-type") == "object":
            return t
        if t.get("meta-type") == "alternate":
            for m in t.get("members", []):
                sub = self._types.get(m["type"], {})
                if sub.get("meta-type") == "object":
                    return sub
        return None

    def member_types(self, command: str, value: dict) -> dict[str, str]:
        """The JSON type of each scalar member of `command` (and of the
        variant `value` picks): "int", "boolean", "string", ..."""
        return {name: t["json-type"] for name, t in self._member_entries(command, value, "builtin")}

    def member_enums(self, command: str, value: dict) -> dict[str, set[str]]:
        """The values each enum member of `command` (and of the variant
        `value` picks) may take."""
        return {name: set(t.get("values", ()))
                for name, t in self._member_entries(command, value, "enum")}

    def _member_entries(self, command: str, value: dict, meta_type: str):
        """(name, type entry) of each member of `command` whose type is of
        `meta_type`."""
        t = self._arg_type(command)
        for m in self._members_of(t, value) if t is not None else ():
            entry = self._types.get(m["type"], {})
            if entry.get("meta-type") == meta_type:
                yield m["name"], entry

    def cases(self, command: str, tag: str) -> set[str]:
        """The values of `command`'s tag member (the enum behind it)."""
        t = self._arg_type(command)
        if t is None:
            return set()
        for m in t.get("members", []):
            if m["name"] == tag:
                enum = self._types.get(m["type"], {})
                return set(enum.get("values", ()))
        return set()

    def coerce_arguments(self, command: str, value):
        entry = self._types.get(command)
        if entry is None or entry.get("meta-type") != "command":
            return plain(value)
        return self.coerce(value, entry["arg-type"])

    def coerce(self, value, type_name: str):
        t = self._types.get(type_name)
        if t is None:
            return plain(value)
        meta = t["meta-type"]
        if meta == "array":
            items = value if isinstance(value, list) else [value]
            element = self._types.get(t["element-type"], {})
            out = []
            for item in items:
                if isinstance(item, str) and _is_int(element):
                    out.extend(_int_range(item) or [item])
                else:
                    out.append(self.coerce(item, t["element-type"]))
            return out
        if isinstance(value, Many):
            value = value[-1]
        if meta == "builtin":
            return _scalar(value, t["json-type"])
        if meta == "enum":
            return value
        if meta == "alternate":
            return self._alternate(value, t)
        if meta == "object":
            return self._object(value, t)
        return plain(value)

    def _object(self, value, t: dict):
        if isinstance(value, str):
            # a string where an object is wanted: QEMU's String wrapper
            # ({"str": ...}, e.g. -netdev user,hostfwd=...) takes it as is
            members = t.get("members", [])
            if len(members) == 1 and members[0]["name"] == "str":
                return {"str": value}
            return value
        if not isinstance(value, dict):
            return plain(value)
        members = {m["name"]: m["type"] for m in self._members_of(t, value)}
        return {k: (self.coerce(v, members[k]) if k in members else plain(v))
                for k, v in value.items()}

    def _alternate(self, value, t: dict):
        choices = [self._types.get(m["type"], {}) for m in t.get("members", [])]
        if isinstance(value, dict):
            for c in choices:
                if c.get("meta-type") == "object":
                    return self._object(value, c)
            return plain(value)
        if isinstance(value, str):
            if any(c.get("json-type") == "string" or c.get("meta-type") == "enum"
                   for c in choices):
                return value
            for c in choices:
                if c.get("meta-type") == "builtin":
                    converted = _scalar(value, c["json-type"])
                    if converted is not value:
                        return converted
        return plain(value)


def _is_int(t: dict) -> bool:
    return t.get("meta-type") == "builtin" and t.get("json-type") == "int"


def _int_range(text: str) -> list[int] | None:
    """`0-3` → [0, 1, 2, 3], as QEMU's options visitor reads integer lists."""
    lo, dash, hi = text.partition("-")
    try:
        if dash:
            first, last = int(lo, 0), int(hi, 0)
            if last - first >= MAX_RANGE:
                return None
            return list(range(first, last + 1))
        return [int(text, 0)]
    except ValueError:
        return None


def _scalar(value, json_type: str):
    if not isinstance(value, str):
        return plain(value)
    if json_type == "int":
        n = parse_size(value)
        return value if n is None else n
    if json_type == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if json_type == "boolean":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    return value
