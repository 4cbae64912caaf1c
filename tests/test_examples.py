"""The examples run as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import Monitor, wait_exit

EXAMPLES = Path(__file__).parent.parent / "examples"
BIN = Path(sys.executable).parent


def run(env, name):
    return subprocess.run([str(EXAMPLES / name)], env=dict(env["env"], PATH=f"{BIN}:{os.environ['PATH']}"),
                          capture_output=True, text=True, timeout=60)


def test_every_example_is_an_executable_script():
    for path in EXAMPLES.glob("*.qcmd"):
        assert os.access(path, os.X_OK), path
        assert path.read_text().startswith("#!/usr/bin/env inorder-qemu\n"), path


def test_q35_disk_nic(env):
    r = run(env, "q35-disk-nic.qcmd")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["/machine/peripheral/rp1/rp1", "/machine/peripheral/rp2/rp2"]


def test_numa_preconfig(env):
    r = run(env, "numa-preconfig.qcmd")
    assert r.returncode == 0, r.stderr
    assert "node 0 cpus: 0 1" in r.stdout and "node 1 cpus: 2 3" in r.stdout


def test_monitor_example_with_extra_arguments(env, name):
    sock = "/tmp/inorder-example.sock"
    proc = subprocess.Popen([str(EXAMPLES / "monitor.qcmd"), "-name", f"guest={name}"],
                            env=dict(env["env"], PATH=f"{BIN}:{os.environ['PATH']}"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mon = Monitor(sock)
    try:
        assert mon("query-name") == {"name": name}
        assert mon("query-status")["status"] == "running"
    finally:
        mon.quit()
    assert wait_exit(proc)[0] == 0


def test_the_yaml_example_builds_what_the_script_builds(env, tmp_path):
    # the same VM (NUMA, PCI addresses, buses, status), from YAML, from the
    # same data as JSON, and from the script
    import json
    import yaml
    items = yaml.safe_load((EXAMPLES / "q35-in-order.yaml").read_text())
    (tmp_path / "q35.json").write_text(json.dumps(items, indent=1))
    e = dict(env["env"], PATH=f"{BIN}:{os.environ['PATH']}")
    outputs = []
    for path in (EXAMPLES / "q35-in-order.qcmd", EXAMPLES / "q35-in-order.yaml",
                 tmp_path / "q35.json"):
        r = subprocess.run([str(BIN / "inorder-qemu"), str(path)], env=e,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert "node 1 cpus: 1" in outputs[0] and '"running"' in outputs[0]
