"""QEMU's stdio, held during the feed and handed to the user at the release.

When a console or monitor is on stdio (-nographic, -serial mon:stdio,
-monitor stdio, -qmp stdio, -chardev stdio), QEMU's stdin and stdout are not
the user's: they are a pty that inorder-qemu holds (pipes when inorder-qemu
has no terminal).  What QEMU prints during the feed (a monitor banner, a QMP
greeting) is kept; nothing typed reaches QEMU.  At the release the kept output
is shown and the user's terminal is connected, in raw mode so that QEMU's own
keys work (Ctrl-a x, Ctrl-a c); QEMU is the session leader of its pty, so
Ctrl-c reaches it as a signal exactly as it would without inorder-qemu.

This is the copy loop of pexpect's interact(), run on the asyncio loop that
also supervises QEMU (interact() would block it).
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import termios
import tty


class Terminal:
    def __init__(self):
        self.tty = os.isatty(0) and os.isatty(1)
        self._kept = bytearray()
        self._released = False
        self._saved = None
        # asyncio is imported once QEMU runs (session.py): not here, at the spawn
        self._loop = None
        self._eof = None
        if self.tty:
            master, slave = os.openpty()
            _copy_winsize(0, slave)
            self._read_fd = self._write_fd = master
            self.child_stdin = self.child_stdout = slave
        else:
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            self._read_fd, self._write_fd = out_r, in_w
            self.child_stdin, self.child_stdout = in_r, out_w

    def preexec(self) -> None:
        """In QEMU's process: with a pty, make it QEMU's controlling terminal."""
        if self.tty:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def started(self) -> None:
        """QEMU has its ends; keep what it prints until the release."""
        os.close(self.child_stdin)
        if self.child_stdout != self.child_stdin:
            os.close(self.child_stdout)
        import asyncio
        self._loop = asyncio.get_running_loop()
        self._eof = asyncio.Event()
        self._loop.add_reader(self._read_fd, self._from_qemu)
        if self.tty:
            # Keys typed during the feed wait in the terminal for QEMU, without
            # echo or line editing; Ctrl-c still interrupts the feed.
            self._saved = termios.tcgetattr(0)
            quiet = termios.tcgetattr(0)
            quiet[3] &= ~(termios.ICANON | termios.ECHO)
            termios.tcsetattr(0, termios.TCSANOW, quiet)

    def _from_qemu(self) -> None:
        try:
            data = os.read(self._read_fd, 65536)
        except OSError:           # EIO: the pty's last user closed it
            data = b""
        if not data:
            self._loop.remove_reader(self._read_fd)
            self._eof.set()
            return
        if self._released:
            _write_all(1, data)
        else:
            self._kept += data

    def kept(self) -> str:
        return self._kept.decode(errors="replace")

    def release(self) -> None:
        """Show what QEMU said so far, then connect the user's terminal."""
        self._released = True
        if self._kept:
            _write_all(1, bytes(self._kept))
            self._kept.clear()
        if self.tty:
            tty.setraw(0, termios.TCSANOW)
            self._loop.add_signal_handler(signal.SIGWINCH, _copy_winsize, 0, self._write_fd)
        try:
            self._loop.add_reader(0, self._from_user)
        except (ValueError, OSError, PermissionError):
            pass                  # stdin cannot be watched (a regular file): nothing to relay

    def _from_user(self) -> None:
        try:
            data = os.read(0, 65536)
        except OSError:
            data = b""
        if not data:
            self._loop.remove_reader(0)
            if not self.tty:
                os.close(self._write_fd)      # QEMU reads EOF, as with a pipe
                self._write_fd = -1
            return
        try:
            _write_all(self._write_fd, data)
        except OSError:
            pass

    async def drain(self, timeout: float = 2.0) -> None:
        """After QEMU exited: show the rest of its output."""
        import asyncio
        try:
            await asyncio.wait_for(self._eof.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def close(self) -> None:
        if self._saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, self._saved)
            self._saved = None
        if self._loop is not None:
            for fd in (0, self._read_fd):
                try:
                    self._loop.remove_reader(fd)
                except (ValueError, OSError):
                    pass
            if self.tty:
                self._loop.remove_signal_handler(signal.SIGWINCH)
        for fd in {self._read_fd, self._write_fd}:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass


def _copy_winsize(src: int, dst: int) -> None:
    try:
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(dst, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]
