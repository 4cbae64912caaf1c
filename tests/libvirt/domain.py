"""Transient libvirt domains for the libvirt tier (tests/test_libvirt.py and
bench/libvirt_start.py): a q35 guest with direct kernel boot, a virtio disk
on a qcow2, a user NIC and its serial port in a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).parent
URI = "qemu:///system"
GUEST = Path(os.environ.get("INORDER_TEST_GUEST", "/var/cache/inorder-qemu-tests/guest"))
DOMAIN_LOGS = Path("/var/log/libvirt/qemu")
MARKER = "inorder-qemu guest: booted"


def libvirtd(action: str) -> None:
    subprocess.run([str(HERE / "libvirtd"), action], check=True, stdin=subprocess.DEVNULL)


def guest() -> Path:
    """The kernel and initramfs (built once, kept under /var/cache)."""
    subprocess.run([str(HERE / "guest"), str(GUEST)], check=True, stdin=subprocess.DEVNULL)
    return GUEST


def drop_in(folder: Path) -> Path:
    """A qemu-system-x86_64 that is inorder-qemu (this virtualenv's)."""
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "qemu-system-x86_64"
    if not link.exists():
        link.symlink_to(Path(sys.executable).parent / "inorder-qemu")
    return link


def virsh(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    r = subprocess.run(["virsh", "-q", "-c", URI, *args], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise AssertionError(f"virsh {' '.join(args)}: {r.stderr.strip()}")
    return r


def xml(name: str, emulator: str, disk: Path, serial: Path,
        commandline: list[str] = (), env: dict[str, str] | None = None) -> str:
    """The domain; `commandline` is a <qemu:commandline> passthrough, `env`
    the emulator's environment there."""
    g = guest()
    passthrough = ""
    if commandline or env:
        quote = {chr(39): '&apos;'}
        passthrough = "<qemu:commandline>" + "".join(
            f"<qemu:arg value='{escape(a, quote)}'/>" for a in commandline
        ) + "".join(
            f"<qemu:env name='{escape(k, quote)}' value='{escape(v, quote)}'/>"
            for k, v in (env or {}).items()
        ) + "</qemu:commandline>"
    return f"""<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{g}/vmlinuz</kernel>
    <initrd>{g}/initrd</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>{emulator}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'>
      <mac address='52:54:00:10:20:30'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='{serial}'/>
    </serial>
    <memballoon model='none'/>
  </devices>
  {passthrough}
</domain>
"""


def create(xml_text: str, folder: Path, *, check: bool = True) -> subprocess.CompletedProcess:
    f = folder / f"domain-{time.monotonic_ns()}.xml"
    f.write_text(xml_text)
    return virsh("create", str(f), check=check)


def qcow2(path: Path) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    return path


def pid_of(name: str) -> int:
    return int(Path(f"/run/libvirt/qemu/{name}.pid").read_text().strip())


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains `text` (QEMU's, or an inorder-qemu's)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry))
    return found


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
