"""A QMP session captured from QEMU replays as a script, QEMU's side and
all; with --expect it is also a regression test."""

from __future__ import annotations

import json
import socket
import subprocess

from conftest import QEMU, qemu_version, script, wait_gone

ARGV = ["-accel", "tcg", "-display", "none", "-nodefaults", "-machine", "q35", "-m", "128M"]
SESSION = [
    {"execute": "qmp_capabilities"},
    {"execute": "object-add", "arguments": {"qom-type": "iothread", "id": "io0"}, "id": 1},
    {"execute": "qom-get", "arguments": {"path": "/objects/io0", "property": "poll-max-ns"}},
    {"execute": "qom-get", "arguments": {"path": "/nothing", "property": "x"}},
    {"execute": "qom-get", "arguments": {"path": "/machine", "property": "type"}, "id": "t"},
    {"execute": "quit"},
]


def capture(name: str) -> list[str]:
    """Every line of a QMP session with bare QEMU, both sides, in order."""
    ours, theirs = socket.socketpair()
    qemu = subprocess.Popen([QEMU, *ARGV, "-name", f"guest={name}", "-S",
                             "-chardev", f"socket,id=m,fd={theirs.fileno()}",
                             "-mon", "chardev=m,mode=control"], pass_fds=[theirs.fileno()])
    theirs.close()
    f = ours.makefile("rwb")
    lines = [f.readline().decode().strip()]            # the greeting
    for command in SESSION:
        f.write(json.dumps(command).encode() + b"\n")
        f.flush()
        lines.append(json.dumps(command))
        while True:
            line = f.readline().decode().strip()
            if not line:
                break
            lines.append(line)
            if '"return"' in line or '"error"' in line:
                break
    try:
        lines += [l.decode().strip() for l in f]    # QEMU's last events, to EOF
    except ConnectionResetError:                    # QEMU closed with our quit unread
        pass
    f.close()
    ours.close()
    qemu.wait(30)
    return lines


def test_a_captured_transcript_replays_and_expects_its_answers(iq, tmp_path, name):
    transcript = capture(name + "-capture")
    assert transcript[0].startswith('{"QMP"') and any('"event"' in l for l in transcript)
    vm = script(tmp_path / "vm.qcmd", f"-name guest={name}", "-machine q35", "-m 128M",
                *transcript)
    r = iq("--expect", vm)
    assert r.returncode == 0, r.stderr
    # the answers are the script's output, as captured
    assert r.stdout == f"32768\npc-q35-{qemu_version()}-machine\n"
    assert wait_gone(name)

    # without --expect, the refusal the capture recorded stops the script there
    r = iq(vm)
    assert r.returncode == 1 and "QEMU refused 'qom-get': Device '/nothing' not found" in r.stderr

    # one captured answer changed: the first difference, at the captured line
    changed = [l.replace("32768", "1") if '"return": 32768' in l else l for l in transcript]
    assert changed != transcript
    # six lines above the transcript (three common, three of this VM)
    line = 6 + 1 + changed.index(next(l for l in changed if '"return": 1' in l))
    vm = script(tmp_path / "changed.qcmd", f"-name guest={name}", "-machine q35", "-m 128M",
                *changed)
    r = iq("--expect", vm)
    assert r.returncode == 1
    assert (f"changed.qcmd:{line}:1: error: QEMU's answer to 'qom-get' differs from the "
            'transcript: captured {"return": 1}, live {"return": 32768}') in r.stderr, r.stderr
    assert wait_gone(name)
