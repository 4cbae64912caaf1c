"""-chardev's option form as chardev-add's arguments (the ChardevBackend
union), for a chardev created after the machine is built.

QEMU reads `-chardev BACKEND,id=ID,...` with one parser per backend
(qemu_chr_parse_* in chardev/char-*.c); chardev-add takes
{"id": ID, "backend": {"type": KIND, "data": {...}}}.  The tables below map
the option keys of each backend to the members of its data; the values stay
strings here and are typed by the binary's schema (booleans, sizes).
"""

from __future__ import annotations

# backend -> (ChardevBackend kind, {option key: data member})
SIMPLE = {
    "null": ("null", {}),
    "pty": ("pty", {}),
    "file": ("file", {"path": "out", "input-path": "in", "append": "append"}),
    "pipe": ("pipe", {"path": "device"}),
    "stdio": ("stdio", {"signal": "signal"}),
    "ringbuf": ("ringbuf", {"size": "size"}),
    "memory": ("ringbuf", {"size": "size"}),          # QEMU's alias of ringbuf
    "serial": ("serial", {"path": "device"}),
    "tty": ("serial", {"path": "device"}),
    "parallel": ("parallel", {"path": "device"}),
    "parport": ("parallel", {"path": "device"}),
}
# the members every backend has (ChardevCommon)
COMMON = {"logfile": "logfile", "logappend": "logappend"}
# socket: what is not part of its address
SOCKET = {"server": "server", "wait": "wait", "nodelay": "nodelay", "telnet": "telnet",
          "tn3270": "tn3270", "websocket": "websocket", "reconnect": "reconnect",
          "tls-creds": "tls-creds", "tls-authz": "tls-authz"}
UNIX_ADDRESS = {"path": "path", "abstract": "abstract", "tight": "tight"}
INET_ADDRESS = {"host": "host", "port": "port", "to": "to", "ipv4": "ipv4", "ipv6": "ipv6"}
# what an option may hold that chardev-add has no member for
NOT_OVER_QMP = {"mux": "a multiplexed chardev (mux=on)"}


class NoHotForm(ValueError):
    """This chardev has no chardev-add form; the message says why."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def chardev_add(args: dict) -> dict:
    """chardev-add's arguments for `-chardev` args (flat, values as written)."""
    backend = args.get("backend")
    for key, what in NOT_OVER_QMP.items():
        if key in args and str(args[key]).lower() in ("on", "yes", "true", "y"):
            raise NoHotForm(f"{what} has no chardev-add form", key)
    taken = {"backend", "id", *NOT_OVER_QMP}
    data = _members(args, COMMON, taken)
    if backend in SIMPLE:
        kind, table = SIMPLE[backend]
        data.update(_members(args, table, taken))
    elif backend == "socket":
        kind = "socket"
        data.update(_members(args, SOCKET, taken))
        data["addr"] = _address(args, taken)
    elif backend == "udp":
        kind = "udp"
        remote = {"host": args.get("host", "localhost"), "port": args.get("port")}
        taken |= {"host", "port", "localaddr", "localport", "ipv4", "ipv6"}
        if remote["port"] is None:
            raise NoHotForm("a udp chardev needs port=", "port")
        data["remote"] = {"type": "inet", "data": remote}
        if "localaddr" in args or "localport" in args:
            data["local"] = {"type": "inet", "data": {"host": args.get("localaddr", ""),
                                                      "port": args.get("localport", "0")}}
    else:
        raise NoHotForm(f"a '{backend}' chardev has no chardev-add form here", "backend")
    extra = sorted(set(args) - taken)
    if extra:
        raise NoHotForm(f"'{extra[0]}' is not a key of a '{backend}' chardev", extra[0])
    return {"id": args.get("id"), "backend": {"type": kind, "data": data}}


def _members(args: dict, table: dict, taken: set) -> dict:
    out = {}
    for key, member in table.items():
        if key in args:
            out[member] = args[key]
            taken.add(key)
    return out


def _address(args: dict, taken: set) -> dict:
    """SocketAddressLegacy, as QEMU 7.2's ChardevSocket has it."""
    if "path" in args:
        return {"type": "unix", "data": _members(args, UNIX_ADDRESS, taken)}
    if "fd" in args:
        taken.add("fd")
        return {"type": "fd", "data": {"str": args["fd"]}}
    if "port" not in args:
        raise NoHotForm("a socket chardev needs path= or port=", "backend")
    inet = _members(args, INET_ADDRESS, taken)
    inet.setdefault("host", "")
    return {"type": "inet", "data": inet}
