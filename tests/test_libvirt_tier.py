"""The libvirt test tier leaves the host as it found it (tests/libvirt/libvirtd):
the configuration it replaces comes back at `stop`, and it will not run beside
a libvirtd it did not start."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TIER = Path(__file__).parent / "libvirt" / "libvirtd"
CONFIGS = [Path("/etc/libvirt/qemu.conf"), Path("/etc/libvirt/libvirtd.conf")]


@pytest.fixture
def host_configs(tmp_path):
    """The host's own files, put back after the test whatever it did."""
    saved = {}
    for f in CONFIGS:
        saved[f] = f.read_bytes() if f.exists() else None
    yield saved
    for f, content in saved.items():
        if content is None:
            f.unlink(missing_ok=True)
        else:
            f.write_bytes(content)


def tier(action: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TIER), action], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_stop_puts_the_hosts_configuration_back(host_configs):
    CONFIGS[0].parent.mkdir(parents=True, exist_ok=True)
    CONFIGS[0].write_text("# the host's own qemu.conf\n")
    CONFIGS[1].unlink(missing_ok=True)             # and no libvirtd.conf at all
    r = tier("start")
    assert r.returncode == 0, r.stderr
    try:
        assert 'security_driver = "none"' in CONFIGS[0].read_text()   # the tier's, meanwhile
        assert CONFIGS[1].exists()
    finally:
        assert tier("stop").returncode == 0
    assert CONFIGS[0].read_text() == "# the host's own qemu.conf\n"
    assert not CONFIGS[1].exists()


def test_it_refuses_to_run_beside_a_libvirtd_it_did_not_start(host_configs, tmp_path):
    fake = tmp_path / "libvirtd"                   # a process named libvirtd
    shutil.copy("/bin/sleep", fake)
    other = subprocess.Popen([str(fake), "60"])
    try:
        before = {f: f.read_bytes() if f.exists() else None for f in CONFIGS}
        r = tier("start")
        assert r.returncode == 1
        assert f"a libvirtd this tier did not start is running (pid {other.pid})" in r.stderr
        assert {f: f.read_bytes() if f.exists() else None for f in CONFIGS} == before
    finally:
        other.kill()
        other.wait()
