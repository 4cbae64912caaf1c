"""The flags inorder-qemu gives QEMU besides the script's own options."""

from __future__ import annotations

# Every supervised launch stops before the guest runs; a plan with steps in
# preconfig also pauses before board init.
STOPPED = ["-S"]
PRECONFIG = ["--preconfig"]

# The private monitor: one end of a socketpair QEMU inherits as fd N.
PRIVATE_CHARDEV = "inorder-feed"


def private_monitor(fd: int) -> list[str]:
    return ["-chardev", f"socket,id={PRIVATE_CHARDEV},fd={fd}",
            "-mon", f"chardev={PRIVATE_CHARDEV},mode=control"]


# QEMU creates a default monitor only when no monitor option is given, and the
# private monitor is one: so the plan writes QEMU's default out (vl.c: muxed
# with the serial port on stdio under -nographic, else a virtual console).
# (the options given) -> the default monitor's words, first match wins
MONITOR_OPTIONS = {"monitor", "qmp", "qmp-pretty", "mon"}
DEFAULT_MONITOR = (
    ({"nographic", "serial"}, ["-monitor", "stdio"]),
    ({"nographic"}, ["-serial", "mon:stdio"]),
    (set(), ["-monitor", "vc:80Cx24C"]),
)


def default_monitor(options: set[str]) -> list[str] | None:
    """The monitor QEMU would create for a command line with these options,
    None when it would create none."""
    if "nodefaults" in options or options & MONITOR_OPTIONS:
        return None
    return next(words for needs, words in DEFAULT_MONITOR if needs <= options)


# A held monitor: QEMU gets the listening socket inorder-qemu made, as fd N.
# The chardev socket keys that say where a socket is are replaced by fd=N.
SOCKET_ADDRESS_KEYS = {"path", "abstract", "tight", "host", "port", "to", "ipv4", "ipv6",
                       "numeric", "server", "wait", "fd"}
# The -mon mode of each legacy monitor option.
MONITOR_MODES = {"qmp": "control", "qmp-pretty": "control", "monitor": "readline"}


def held_socket(chardev_id: str, fd: int, extra: list[str]) -> str:
    return ",".join([f"socket,id={chardev_id},fd={fd},server=on,wait=off", *extra])


def held_monitor_chardev(index: int) -> str:
    """The chardev id a legacy -qmp/-monitor gets once split into -chardev
    and -mon."""
    return f"inorder-mon{index}"


# The profile's probe: a machine with nothing in it, paused in preconfig.
PROBE = ["-M", "none", "-accel", "tcg", "-display", "none", "-nodefaults",
         "-no-user-config", "-S", "--preconfig"]
# asking for the properties of device types: no preconfig, nothing to build
PROBE_TYPES = ["-M", "none", "-accel", "tcg", "-display", "none", "-nodefaults",
               "-no-user-config", "-S"]
