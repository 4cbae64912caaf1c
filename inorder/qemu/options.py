"""QEMU's options, as a table: what each one is for inorder-qemu.

Each option has a role that decides its phases and channel (plan/channel.py):

  argv      only QEMU's argv can set it: allowed in `startup` only
  device    cold-plugged on argv before machine-ready, hot-plugged after
  backend   created over QMP at its position (object-add, blockdev-add, ...)
  numa      set-numa-node, in preconfig
  chardev   argv before the launch, chardev-add once the machine is built
            (QEMU 7.2 refuses chardev-add before machine-ready)
  drive     argv before the launch, HMP drive_add once the machine is built
  monitor   argv, created suspended and released after the feed (plan/monitors.py)
  stop      -S: the feed ends in machine-ready
  preconfig --preconfig: the feed ends in preconfig
  daemonize -daemonize, -pidfile: readiness is signalled by inorder-qemu after
            the release, not by QEMU (which would do it still in preconfig)

Options not listed here are `argv` options; whether they exist and take an
argument is learned from the binary (its profile).
"""

from __future__ import annotations

# Namespaces of ids.  A use names the namespace of the id it refers to.
DEVICE, NETDEV, CHARDEV, BLOCK, OBJECT = "device", "netdev", "chardev", "block", "object"

# When QEMU resolves a reference: at the referencing command's own position
# (`position`: the id must be defined above it), or at board init (`board`: the
# machine only stores the name, so the definition may follow).
POSITION, BOARD = "position", "board"


class Use:
    __slots__ = ("namespace", "when", "on_argv")

    def __init__(self, namespace: str, when: str = POSITION, on_argv: bool = False):
        self.namespace = namespace
        self.when = when
        # QEMU looks the id up when it starts, before any QMP: the definition
        # must go on argv too, wherever it is written
        self.on_argv = on_argv


class OptionSpec:
    __slots__ = ("role", "syntax", "implied", "json", "qmp", "defines", "uses")

    def __init__(self, role: str = "argv", syntax: str | None = None,
                 implied: str | None = None, json: bool = False, qmp: str | None = None,
                 defines: tuple[str, str] | None = None, uses: dict[str, Use] | None = None):
        self.role = role
        # key=value flavour of the argument: QemuOpts (flat, `nofoo` booleans)
        # or keyval (dotted keys nest); None for a plain string argument
        self.syntax = syntax
        self.implied = implied        # the key the first element may omit
        self.json = json              # accepts a JSON object argument
        self.qmp = qmp                # the QMP command for backend/numa roles
        self.defines = defines        # (namespace, key)
        self.uses = uses or {}


DEVICE_USES = {
    "netdev": Use(NETDEV), "drive": Use(BLOCK), "chardev": Use(CHARDEV),
    "rng": Use(OBJECT), "memdev": Use(OBJECT), "iothread": Use(OBJECT),
    "bus": Use(DEVICE),
}
OBJECT_USES = {
    "chardev": Use(CHARDEV), "netdev": Use(NETDEV), "keyid": Use(OBJECT),
    "passwordid": Use(OBJECT), "tls-creds": Use(OBJECT), "iothread": Use(OBJECT),
}
# blockdev members that name another node when given as a string
BLOCK_USES = {
    "file": Use(BLOCK), "backing": Use(BLOCK), "data-file": Use(BLOCK),
    "image": Use(BLOCK), "test": Use(BLOCK), "raw": Use(BLOCK),
}

OPTIONS: dict[str, OptionSpec] = {
    "device": OptionSpec("device", "qemuopts", "driver", json=True,
                         qmp="device_add", defines=(DEVICE, "id"), uses=DEVICE_USES),
    "object": OptionSpec("backend", "keyval", "qom-type", json=True,
                         qmp="object-add", defines=(OBJECT, "id"), uses=OBJECT_USES),
    # keyval_parse(optarg, "driver", ...) in vl.c: `-blockdev null-co,node-name=d0`
    "blockdev": OptionSpec("backend", "keyval", "driver", json=True,
                           qmp="blockdev-add", defines=(BLOCK, "node-name"), uses=BLOCK_USES),
    "netdev": OptionSpec("backend", "qemuopts", "type", json=True,
                         qmp="netdev_add", defines=(NETDEV, "id")),
    "numa": OptionSpec("numa", "qemuopts", "type", qmp="set-numa-node",
                       uses={"memdev": Use(OBJECT)}),
    "chardev": OptionSpec("chardev", "qemuopts", "backend", defines=(CHARDEV, "id"),
                          uses={"tls-creds": Use(OBJECT), "tls-authz": Use(OBJECT)}),
    "drive": OptionSpec("drive", "qemuopts", "file", defines=(BLOCK, "id")),
    # QEMU 7.2 resolves memory-backend= before the preconfig pause (measured:
    # "Memory backend 'pc.ram' not found" otherwise), after every -object
    "machine": OptionSpec("argv", "keyval", "type",
                          uses={"memory-backend": Use(OBJECT, BOARD, on_argv=True)}),
    "M": OptionSpec("argv", "keyval", "type",
                    uses={"memory-backend": Use(OBJECT, BOARD, on_argv=True)}),
    "mon": OptionSpec("monitor", "qemuopts", "chardev", uses={"chardev": Use(CHARDEV)}),
    "qmp": OptionSpec("monitor"),
    "qmp-pretty": OptionSpec("monitor"),
    "monitor": OptionSpec("monitor"),
    "S": OptionSpec("stop"),
    "preconfig": OptionSpec("preconfig"),
    "daemonize": OptionSpec("daemonize"),
    "pidfile": OptionSpec("daemonize"),
}

# Options whose argument is a legacy chardev spec ("stdio", "mon:stdio", ...).
CHARDEV_SPEC_OPTIONS = {"serial", "parallel", "monitor", "qmp", "qmp-pretty",
                        "debugcon", "virtioconsole"}

ARGV = OptionSpec()

# Options QEMU's -h does not show (or shows in a form that hides the arity).
EXTRA_OPTIONS = {"preconfig": False, "h": False, "help": False, "M": True}

# Invocations that only ask QEMU something (its version, its help, a list of
# machines or devices): passed straight to QEMU, as they are.
QUERY_FLAGS = {"version", "h", "help", "audio-help"}
QUERY_ARGUMENTS = ("help", "?")

# Options whose argument may be a JSON object (QEMU: an argument that starts
# with '{' is JSON for these).
JSON_OPTIONS = frozenset(name for name, spec in OPTIONS.items() if spec.json)

# Options whose parameters the binary lists (query-command-line-options),
# checked by name and type before launch: option -> (its QemuOpts group, the
# implied key of its first element, its syntax).  -boot and -smp are parsed
# as keyval since QEMU 6.2 (vl.c machine_parse_property_opt): no bare
# `flag`, no `noflag`.  Not here: options whose list is incomplete
# (-machine: its properties are the machine type's; -drive: block driver
# options pass through) or empty (-device, -netdev, -object: typed elsewhere).
PARAMETERS = {
    "boot": ("boot-opts", "order", "keyval"),
    "smp": ("smp-opts", "cpus", "keyval"),
    "name": ("name", "guest", "qemuopts"),
    "rtc": ("rtc", None, "qemuopts"),
    "overcommit": ("overcommit", None, "qemuopts"),
    "msg": ("msg", None, "qemuopts"),
    "action": ("action", None, "qemuopts"),
    "add-fd": ("add-fd", None, "qemuopts"),
    "sandbox": ("sandbox", "enable", "qemuopts"),
    "icount": ("icount", "shift", "qemuopts"),
    "fw_cfg": ("fw_cfg", "name", "qemuopts"),
    "mon": ("mon", "chardev", "qemuopts"),
}

# -readconfig: QemuOpts group names that are not the option's name
READCONFIG_GROUPS = {"memory": "m", "smp-opts": "smp", "boot-opts": "boot"}
