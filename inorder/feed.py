"""Launch QEMU with only a private monitor, stream the plan, release, supervise.

The order of a run:

1. user monitors are prepared: their sockets exist, each with a hold
   connection, so clients queue without a greeting (monitors.py);
2. the watchdog is forked: if inorder-qemu dies from here until the release,
   QEMU is stopped and nothing is left behind (watchdog.py);
3. QEMU is launched with `-S`, `--preconfig` when the plan needs it, and the
   private monitor; the steps are fed in order;
4. release: the holds close, stdio is handed to the user (terminal.py);
5. supervision: inorder-qemu relays QEMU's stderr, passes signals on and
   exits with QEMU's status; with -daemonize it writes the pidfile and leaves.

The first step QEMU refuses stops the feed: its message is reported at the
step's location, QEMU is shut down (quit, terminate, kill) and nothing is left
behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys

from . import early
from .timing import mark, report
from .errors import FeedError, InorderError
from .options import PIPELINE_SAFE
from .plan import Plan, Step
from .process import Qemu, QemuDied, QemuRefused

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(InorderError):
    def __init__(self, sig: int):
        super().__init__(f"interrupted by {signal.Signals(sig).name} while feeding: QEMU stopped")
        self.exit_status = 128 + sig


def run(plan: Plan, binary: str, *, verbose: bool = False, debug: bool = False) -> int:
    feeder = Feeder(plan, binary, verbose)
    try:
        feeder.start()                  # QEMU starts now ...
        if feeder.quick:                # (no asyncio needed to tell it to run)
            feeder.handshake()
            if plan.daemonize:
                feeder._cleanup(keep_sockets=True)
                return feeder._detach()
    except BaseException:
        feeder.abandon()
        raise
    import asyncio                      # ... while this takes as long as QEMU's start
    import logging                      # (10 ms: not before the spawn)
    # qemu.qmp logs a lost connection as an error; QEMU quitting is normal here
    logging.getLogger("qemu.qmp").addHandler(logging.NullHandler())
    logging.getLogger("qemu.qmp").propagate = debug
    return asyncio.run(feeder.run())


class Feeder:
    def __init__(self, plan: Plan, binary: str, verbose: bool):
        self.plan = plan
        self.verbose = verbose
        self.qemu = Qemu(binary, [])
        self.terminal = None
        self.watchdog = None
        self.released = False
        self._signal: int | None = None
        self.pidfile = PidFile(plan.pidfile) if plan.pidfile else None

    def _argv(self) -> list[str]:
        extra = ["-S"]
        if self.plan.preconfig:
            extra.append("--preconfig")
        if self.pidfile is not None:
            extra += ["-pidfile", self.pidfile.temp]
        return self.plan.argv() + extra

    async def run(self) -> int:
        import asyncio
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig, task)
        keep_sockets = False
        try:
            if self.released:           # by handshake(): only supervision is left
                await self.qemu.attach(monitor=False)
                return await self._supervise()
            try:
                await self._attach()
                mark("greeting")
                await self._feed_all()
                self._interrupted()
                mark("fed")
                if self.plan.quits:
                    self._dismiss_watchdog()
                    return await self.qemu.wait()
                self._release()
            except BaseException as e:
                await self.qemu.shutdown()
                if isinstance(e, asyncio.CancelledError) and self._signal is not None:
                    raise Interrupted(self._signal) from None
                raise
            finally:
                self._dismiss_watchdog()
            if self.plan.daemonize:
                keep_sockets = True
                return self._detach()
            return await self._supervise()
        finally:
            for sig in _SIGNALS:
                loop.remove_signal_handler(sig)
            self._cleanup(keep_sockets)

    def _cleanup(self, keep_sockets: bool = False) -> None:
        if self.pidfile is not None:
            self.pidfile.cleanup(keep=keep_sockets)
        if self.terminal is not None:
            self.terminal.close()
        early.release_all()
        for monitor in self.plan.monitors:
            if keep_sockets:
                monitor.release()
                monitor.close_listener()
            else:
                monitor.cleanup()

    def abandon(self) -> None:
        """start() failed or was interrupted: stop what it started."""
        import asyncio
        if self.qemu.proc is not None:
            asyncio.run(self.qemu.shutdown())
        self._dismiss_watchdog()
        self._cleanup()

    def start(self) -> None:
        """Everything before the event loop: sockets and holds, the watchdog,
        the spawn.  (A signal here ends inorder-qemu; the watchdog then stops
        QEMU.)"""
        import subprocess

        from .watchdog import Watchdog
        self.watchdog = Watchdog()          # first: it learns of each socket before it exists
        for hold in early.HOLDS.values():
            self.watchdog.keep(hold)
        if self.pidfile is not None:
            self.pidfile.check()
            self.watchdog.remove_at_death(self.pidfile.temp)
        fds = [monitor.prepare(self.watchdog) for monitor in self.plan.monitors]
        for monitor in self.plan.monitors:
            if self.verbose:
                _say(f"monitor {monitor.label}: held until the feed is done")
                if monitor.public:
                    _say(f"monitor {monitor.label} is reachable from other hosts")
        stdin = stdout = None
        preexec = None
        if self.plan.daemonize:
            stdin = stdout = subprocess.DEVNULL
        elif self.plan.stdio:
            from .terminal import Terminal
            self.terminal = Terminal()
            stdin, stdout = self.terminal.child_stdin, self.terminal.child_stdout
            preexec = self.terminal.preexec
            # with stdio on a pty, QEMU's last words may be there, not on stderr
            self.qemu.more_output = self.terminal.kept
        self.qemu.argv = self._argv()
        mark("spawn")
        if self.verbose:
            _say("launch: " + " ".join(_quote(a) for a in self.qemu.command_line))
        watchdog = self.watchdog

        def in_child():
            watchdog.watch_me()
            if preexec is not None:
                preexec()
        try:
            # QEMU gets every fd inorder-qemu was given, as it would have
            self.qemu.spawn(stdin=stdin, stdout=stdout, pass_fds=set(fds + early.INHERITED),
                            preexec_fn=in_child, new_session=self.plan.daemonize)
        finally:
            for monitor in self.plan.monitors:
                monitor.close_listener()

    @property
    def quick(self) -> bool:
        """A direct plan whose feed is at most the advances QEMU cannot make
        itself (cont), with no terminal to relay: handshake() does it all
        before asyncio and qemu.qmp are even imported."""
        return (self.plan.direct and self.plan.stdio is False
                and all(s.synthetic for s in self.plan.qmp_steps))

    def handshake(self) -> None:
        """QEMU has built the VM from its argv: send what is left, release."""
        steps = self.plan.qmp_steps
        for step in steps:
            self._echo(step)
        try:
            self.qemu.handshake([s.execute for s in steps])
        except QemuRefused as e:
            step = next(s for s in steps if s.execute == e.command)
            raise self._error(step, f"QEMU refused '{e.command}': {e.message}") from None
        except QemuDied as e:
            raise self._refused_option() or e from None
        mark("greeting")
        mark("fed")
        # From the release on a signal is QEMU's (as _on_signal does once the
        # event loop runs): no window where SIGTERM would end inorder-qemu alone
        for sig in _SIGNALS:
            signal.signal(sig, self._pass_on)
        self._release()

    def _pass_on(self, sig: int, frame) -> None:
        self.qemu.send_signal(sig)

    async def _attach(self) -> None:
        if self.terminal is not None:
            self.terminal.started()
        try:
            await self.qemu.attach()
        except QemuDied as e:
            raise self._refused_option() or e from None
        for monitor in self.plan.monitors:
            if monitor.inherited_fd in early.BEATEN:
                _warn(f"a client connected to monitor {monitor.label} before inorder-qemu "
                      "could hold it: that client sees the VM before its configuration "
                      "is complete")

    def _dismiss_watchdog(self) -> None:
        if self.watchdog is not None:
            self.watchdog.dismiss()
            self.watchdog = None

    def _on_signal(self, sig: int, task) -> None:
        self._signal = sig
        if not self.released:
            task.cancel()
        else:
            # After the release the VM is the user's: pass the signal on, as
            # if QEMU had received it directly.
            self.qemu.send_signal(sig)

    async def _feed_all(self) -> None:
        """Every QMP step, in order.  Runs of pipeline-safe steps are sent
        without waiting for each answer (up to _WINDOW in flight); QEMU runs a
        monitor's commands in order, and the first failure is still the one
        reported.  Any other step waits for all earlier answers."""
        import asyncio
        pending: list = []
        try:
            for step in self.plan.qmp_steps:
                if not _pipeline_safe(step):
                    while pending:
                        await self._answer(*pending.pop(0))
                    self._echo(step)
                    await self._answer(step, self.qemu.execute(step.execute, step.arguments))
                    continue
                self._echo(step)
                pending.append((step, asyncio.ensure_future(
                    self.qemu.execute(step.execute, step.arguments))))
                if len(pending) >= _WINDOW:
                    await self._answer(*pending.pop(0))
                self._interrupted()
            while pending:
                await self._answer(*pending.pop(0))
        finally:
            for _, task in pending:               # after a failure: QEMU stops anyway
                task.cancel()
            if pending:
                await asyncio.gather(*(t for _, t in pending), return_exceptions=True)

    def _interrupted(self) -> None:
        """A signal cancels the feed task, but asyncio.wait_for of Python
        3.11 can swallow a cancellation that lands as its inner future
        completes: check the signal too."""
        if self._signal is not None and not self.released:
            import asyncio
            raise asyncio.CancelledError

    def _echo(self, step: Step) -> None:
        if self.verbose:
            _say(f"{step.command.loc}: [{step.phase}] -> {step.execute} "
                 f"{json.dumps(step.arguments) if step.arguments else ''}".rstrip())

    async def _answer(self, step: Step, reply_of) -> None:
        from qemu.qmp import ExecuteError
        try:
            reply = await reply_of
        except ExecuteError as e:
            raise self._error(step, f"QEMU refused '{step.execute}': {e.error.error.desc}") from None
        except QemuDied as e:
            raise self._refused_option() or self._error(
                step, f"'{step.execute}' failed: {e.message}") from None
        except InorderError as e:
            raise self._error(step, e.message) from None
        if self.verbose:
            _say(f"{step.command.loc}: <- {json.dumps(reply)}")
        if step.shows_reply and reply not in ({}, None, []):
            # A query written in the script answers on stdout, as in qmp-shell;
            # HMP text (human-monitor-command) as it is.
            text = reply if isinstance(reply, str) else json.dumps(reply)
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    def _refused_option(self) -> FeedError | None:
        """QEMU exited creating what its argv asked for (at launch, or at
        x-exit-preconfig for a cold device): its last line names the option
        it refused ("qemu-system-x86_64: -object ...: message"), and the
        error goes where the script wrote that option."""
        lines = [line for line in self.qemu.stderr_text().splitlines() if line.strip()]
        if not lines:
            return None
        for step in reversed(self.plan.argv_steps):
            if step.synthetic:
                continue
            spelled = " ".join(step.argv) + ": "
            at = lines[-1].find(spelled)
            if at >= 0:
                message = lines[-1][at + len(spelled):]
                return self._error(step, f"QEMU refused '{step.argv[0]}': {message}")
        return None

    def _error(self, step: Step, message: str) -> FeedError:
        err = FeedError(message, _blame(step, message), list(step.notes))
        if step.synthetic:
            err.note(None, f"'{step.execute}' was sent implicitly ({step.why.removeprefix('implicit: ')})")
        return err

    def _release(self) -> None:
        self._dismiss_watchdog()            # it holds copies of the hold connections
        early.release_all()                 # inherited sockets that are no monitors
        for monitor in self.plan.monitors:
            monitor.release()
            if self.verbose:
                _say(f"released monitor {monitor.label}")
        self.released = True
        if self.pidfile is not None:
            self.pidfile.place()
        if self.terminal is not None:
            self.terminal.release()
        self.qemu.relay_stderr()
        mark("released")
        report()

    def _detach(self) -> int:
        """-daemonize: the VM is configured and its monitors released, the
        pidfile in place: leave it running; returning signals readiness."""
        if self.verbose:
            _say(f"daemonized: QEMU pid {self.qemu.pid}")
        return 0

    async def _supervise(self) -> int:
        # The private monitor stays open: a closed socketpair would only make
        # QEMU log a disconnect, and we may need it for a clean stop.
        status = await self.qemu.wait()
        if self.terminal is not None:
            await self.terminal.drain()
        return status


_WINDOW = 32


def _pipeline_safe(step: Step) -> bool:
    rule = PIPELINE_SAFE.get(step.execute, False)
    if rule is None:
        return True
    if rule is False:
        return False
    key, values = rule
    return isinstance(step.arguments, dict) and step.arguments.get(key) in values


class PidFile:
    """-pidfile FILE, written and locked by QEMU itself, in place only once
    the VM is released.

    QEMU writes its pid to a file and locks it (lockf) as soon as it starts,
    in preconfig: too early to signal readiness.  So QEMU is given a
    temporary name beside FILE, and the file is renamed to FILE at the
    release; the lock is on the file, so it holds under the new name.  QEMU
    removes its pidfile when it exits, by the name it was given: under
    supervision inorder-qemu removes FILE then; after -daemonize FILE stays,
    unlocked."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        folder, name = os.path.split(self.path)
        self.temp = os.path.join(folder, f".{name}.inorder-{os.getpid()}")
        self._placed: tuple[int, int] | None = None     # (dev, inode) once renamed

    def check(self) -> None:
        """QEMU refuses a pidfile another process holds locked: so do we,
        before anything starts."""
        import fcntl
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        except OSError as e:
            raise InorderError(f"cannot open pid file {self.path}: {e.strerror}") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InorderError(f"cannot lock pid file {self.path}: another process "
                               "holds it (a VM already running?)") from None
        finally:
            os.close(fd)                    # also drops the probe lock

    def place(self) -> None:
        try:
            st = os.stat(self.temp)
            os.rename(self.temp, self.path)
        except OSError as e:
            _warn(f"cannot put the pid file in place at {self.path}: {e.strerror}")
            return
        self._placed = (st.st_dev, st.st_ino)

    def cleanup(self, keep: bool) -> None:
        """keep: -daemonize, QEMU goes on running.  Else QEMU has exited (or
        never ran): remove what it would have removed."""
        for path in (self.temp, self.path if not keep else None):
            if path is None:
                continue
            try:
                st = os.stat(path)
                if path == self.temp or (st.st_dev, st.st_ino) == self._placed:
                    os.unlink(path)
            except OSError:
                pass


def _blame(step: Step, message: str):
    """Point at the key QEMU names ("Parameter 'size' expects uint64") when the
    step was written as key=value; else at the command."""
    m = _NAMED.search(message)
    if m and step.pairs:
        key = m.group(1)
        for pair in reversed(step.pairs):
            if pair.key == key or pair.key.endswith("." + key):
                return step.command.arg_at(pair.offset, len(pair.key) + 1 + len(pair.value))
    return step.command.loc


_NAMED = re.compile(r"(?:[Pp]arameter|[Pp]roperty) '([^']+)'")


def _say(text: str) -> None:
    print(f"inorder-qemu: {text}", file=sys.stderr, flush=True)


def _warn(text: str) -> None:
    print(f"inorder-qemu: warning: {text}", file=sys.stderr, flush=True)


def _quote(word: str) -> str:
    import shlex
    return shlex.quote(word)
