"""The fast tier: no QEMU process, no QEMU binary on PATH.

Everything QEMU would tell inorder-qemu comes from the profile recorded from a
real QEMU 7.2 (tests/data/qemu-7.2/, by tests/data/record.py): its version,
its QMP commands and those allowed in preconfig, the arity of each option of
`-h`, its QMP schema, its type names, and the properties of the device types
the tests name.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from inorder.qemu.profile import Profile

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "qemu-7.2"


def pytest_collection_modifyitems(config, items):
    """Every test under tests/unit is a `unit` test (`pytest -m unit`)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def recorded():
    """profile.json of the recorded QEMU 7.2, as data."""
    return json.loads((DATA / "profile.json").read_text())


def recorded_profile(recorded: dict) -> Profile:
    """The Profile of the recorded QEMU 7.2 (its schema is read once, when
    a key=value argument first needs typing)."""
    return Profile(binary="/usr/bin/qemu-system-x86_64", version=recorded["version"],
                   commands=set(recorded["commands"]), preconfig=set(recorded["preconfig"]),
                   options=recorded["options"], schema_file=str(DATA / "schema.json"),
                   key=(("recorded", "qemu-7.2"),), names=recorded,
                   device_properties=json.loads((DATA / "devices.json").read_text()))


@pytest.fixture(scope="session")
def profile(recorded):
    return recorded_profile(recorded)


@pytest.fixture(scope="session")
def schema(profile):
    return profile.schema


@pytest.fixture(scope="session")
def help_text():
    return (DATA / "help.txt").read_text()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Nothing a unit test does touches the user's cache."""
    cache = tmp_path / "inorder-cache"
    monkeypatch.setenv("INORDER_CACHE", str(cache))
    return cache


@pytest.fixture(autouse=True)
def no_processes(monkeypatch):
    """A unit test that tried to start QEMU (or anything) fails at once."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a unit test started a process: {args[:1]!r}")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", refuse)
    for name in ("execv", "execve", "execvp", "execvpe", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)


@pytest.fixture
def write(tmp_path):
    """write("vm.qcmd", line, ...) -> the path of a file with those lines."""
    def write(name: str, *lines: str) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines))
        return str(path)
    return write


@pytest.fixture
def binary(tmp_path, monkeypatch):
    """A stand-in QEMU binary, chosen as $INORDER_QEMU is (the warm start's
    tests: its size and mtime are in a record's key)."""
    path = tmp_path / "bin" / "qemu-system-x86_64"
    path.parent.mkdir()
    path.write_bytes(b"#!/bin/false\n")
    path.chmod(0o755)
    monkeypatch.setenv("INORDER_QEMU", str(path))
    return str(path)


def for_binary(profile: Profile, binary: str) -> Profile:
    """The recorded profile as the stand-in `binary`'s (a record's key holds
    the binary's path and stamp), without names or device properties."""
    return Profile(binary, profile.version, profile.commands, profile.preconfig,
                   profile.options, profile.schema_file, names={}, device_properties={})
