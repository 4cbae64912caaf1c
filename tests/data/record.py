#!/usr/bin/env python3
"""Record the unit tier's profile from a real QEMU (tests/data/qemu-7.2/):

    .venv/bin/python tests/data/record.py [/usr/bin/qemu-system-x86_64]

profile.json (what the probe learns, without the cache key), schema.json
(query-qmp-schema) and devices.json (device-list-properties of the device
types the tests name, qom-list-properties of four machine types; the unit
tier never starts QEMU to ask for more).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from inorder.qemu.options import EXTRA_OPTIONS  # noqa: E402
from inorder.run.probe import device_properties, probe  # noqa: E402

# every device type a test under tests/ names, and a few more users write
DEVICES = [
    "e1000", "i6300esb", "ich9-ahci", "ide-hd", "isa-debugcon", "isa-serial", "nvme",
    "pcie-root-port", "piix3-usb-uhci", "qemu-xhci", "scsi-hd", "usb-kbd", "usb-tablet",
    "virtio-balloon-pci", "virtio-blk-pci", "virtio-gpu-pci", "virtio-net-pci",
    "virtio-rng-pci", "virtio-scsi-pci", "virtio-serial-pci", "virtserialport",
    "virtconsole", "vhost-vsock-pci", "VGA", "pci-bridge", "ide-cd", "scsi-cd",
    "virtio-keyboard-pci", "virtio-mouse-pci", "qxl-vga", "cirrus-vga", "intel-hda",
    "hda-duplex", "usb-storage", "pc-dimm", "nec-usb-xhci", "pvpanic", "edu",
    "qemu64-x86_64-cpu", "max-x86_64-cpu", "Skylake-Client-x86_64-cpu",
]


def main() -> int:
    binary = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/qemu-system-x86_64"
    out = ROOT / "tests" / "data" / "qemu-7.2"
    data, schema = probe(binary)
    data["options"].update(EXTRA_OPTIONS)
    (out / "profile.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    (out / "schema.json").write_text(json.dumps(schema, separators=(",", ":")))
    # and the properties of the machine types users name most
    machines = [data["machines"][m] + "-machine" for m in ("q35", "pc", "none", "microvm")]
    props = device_properties(binary, DEVICES + machines)
    (out / "devices.json").write_text(json.dumps(props, indent=1, sort_keys=True) + "\n")
    print(f"recorded QEMU {data['version']}: {len(data['devices'])} device types, "
          f"{len(props)} with properties", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
