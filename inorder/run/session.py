"""One supervised run of a plan, its lifecycle in order:

1. pre-launch: the watchdog is forked (if inorder-qemu dies from here until
   the release, QEMU is stopped and nothing is left behind: watchdog.py);
   user monitors get their sockets, each with a hold connection, so clients
   queue without a greeting (monitors.py); the pidfile is checked;
2. launch: QEMU is spawned with `-S`, `--preconfig` when the plan needs it,
   and the private monitor (launch.py, process.py);
3. feed: the QMP steps in order (feed.py), or the synchronous handshake when
   only `cont` is left (handshake.py);
4. release: the holds close, stdio is handed to the user (release.py);
5. supervision: inorder-qemu relays QEMU's stderr, passes signals on and
   exits with QEMU's status; with -daemonize it leaves QEMU running.

This module is everything before the event loop; supervise.py runs the rest.

The first step QEMU refuses stops the feed: its message is reported at the
step's location, QEMU is shut down (quit, terminate, kill) and nothing is left
behind (cleanup, whatever happened).
"""

from __future__ import annotations

import signal
import subprocess

from ..errors import QemuDied, QemuRefused, say, warn
from ..plan.step import Plan
from ..timing import Timings
from . import blame
from .handshake import handshake
from .inherited import Inherited
from .launch import describe
from .monitors import HeldMonitor
from .pidfile import PidFile
from .process import Qemu
from .release import Held
from .watchdog import Watchdog

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run(plan: Plan, binary: str, inherited: Inherited, timings: Timings, *,
        verbose: bool = False, debug: bool = False, expect: bool = False) -> int:
    session = Session(plan, binary, inherited, timings, verbose, expect)
    try:
        session.launch()                # QEMU starts now ...
        if session.quick:               # (no asyncio needed to tell it to run)
            session.handshake()
            if plan.daemonize:
                session.held.cleanup(keep_sockets=True)
                return session.detach()
    except BaseException:
        session.abandon()
        raise
    # ... while asyncio, qemu.qmp and logging are imported (85 ms here, about
    # as long as QEMU takes to greet): never before the spawn
    from . import supervise
    return supervise.run(session, debug)


class Session:
    def __init__(self, plan: Plan, binary: str, inherited: Inherited, timings: Timings,
                 verbose: bool, expect: bool = False):
        self.plan = plan
        self.timings = timings
        self.verbose = verbose
        self.qemu = Qemu(binary)
        self.watchdog: Watchdog | None = None
        self.launched = None                # run/launch.py's Launch, once spawned
        self.expect = expect                # --expect: answers as a transcript captured them
        self.held = Held([HeldMonitor(spec) for spec in plan.monitors], inherited,
                         PidFile(plan.pidfile) if plan.pidfile else None, verbose)

    # -- pre-launch and launch (no event loop yet) ----------------------

    def launch(self) -> None:
        """Sockets and holds, the watchdog, the spawn.  (A signal here ends
        inorder-qemu; the watchdog then stops QEMU.)"""
        held = self.held
        self.watchdog = Watchdog()          # first: it learns of each socket before it exists
        for hold in held.inherited.holds.values():
            self.watchdog.keep(hold)
        if held.pidfile is not None:
            held.pidfile.check()
            self.watchdog.remove_at_death(held.pidfile.temp)
        for monitor in held.monitors:
            monitor.prepare(self.watchdog, held.inherited)
            if monitor.spec.inherited_fd in held.inherited.beaten:
                # said now: that client may end the VM before the feed does
                warn(f"a client connected to monitor {monitor.label} before inorder-qemu "
                     "could hold it: that client sees the VM before its configuration "
                     "is complete")
            if self.verbose:
                say(f"monitor {monitor.label}: held until the feed is done")
                if monitor.spec.public:
                    say(f"monitor {monitor.label} is reachable from other hosts")
        launch = self.launched = describe(self.plan, held.monitors,
                                          held.pidfile.temp if held.pidfile else None,
                                          held.inherited.fds)
        stdin = stdout = None
        preexec = None
        if self.plan.daemonize:
            stdin = stdout = subprocess.DEVNULL
        elif self.plan.stdio:
            from .terminal import Terminal    # 1.5 ms (termios, tty): only for stdio
            held.terminal = Terminal()
            stdin, stdout = held.terminal.child_stdin, held.terminal.child_stdout
            preexec = held.terminal.preexec
            # with stdio on a pty, QEMU's last words may be there, not on stderr
            self.qemu.more_output = held.terminal.kept
        self.timings.mark("spawn")
        if self.verbose:
            say("launch: " + " ".join(_quote(a) for a in [self.qemu.binary, *launch.argv]))
        watchdog = self.watchdog

        def in_child():
            watchdog.watch_me()
            if preexec is not None:
                preexec()
        try:
            # QEMU gets every fd inorder-qemu was given, as it would have
            self.qemu.spawn(launch.argv, stdin=stdin, stdout=stdout, pass_fds=launch.pass_fds,
                            preexec_fn=in_child, new_session=self.plan.daemonize)
        finally:
            for monitor in held.monitors:
                monitor.close_listener()

    @property
    def quick(self) -> bool:
        """A direct plan whose feed is at most the advances QEMU cannot make
        itself (cont), with no terminal to relay: handshake() does it all
        before asyncio and qemu.qmp are even imported."""
        return (self.plan.direct and not self.plan.stdio
                and all(s.synthetic for s in self.plan.qmp_steps))

    def handshake(self) -> None:
        """QEMU has built the VM from its argv: send what is left, release."""
        steps = self.plan.qmp_steps
        for step in steps:
            if self.verbose:
                say(f"{step.command.loc}: [{step.phase}] -> {step.execute}")
        try:
            handshake(self.qemu, [s.execute for s in steps])
        except QemuRefused as e:
            step = next(s for s in steps if s.execute == e.command)
            raise blame.error(step, f"QEMU refused '{e.command}': {e.message}") from e
        except QemuDied as e:
            self.blame_exit(e)
        for monitor in self.held.monitors:
            monitor.hold_now(self.watchdog)
        self.timings.mark("greeting")
        self.timings.mark("fed")
        # From the release on a signal is QEMU's (as supervise.py does once
        # the event loop runs): no window where SIGTERM would end inorder-qemu alone
        for sig in SIGNALS:
            signal.signal(sig, self._pass_on)
        self.release()

    def blame_exit(self, died: QemuDied) -> None:
        """QEMU exited before it answered: when its last words name an option
        of the plan, the error goes where the script wrote it."""
        refused = self.refused()
        if refused is None:
            raise died
        raise refused from died

    def refused(self):
        """The option QEMU's last words say it refused, as a located error."""
        return blame.refused_option(self.plan, self.qemu.stderr_text(), self.launched)

    def _pass_on(self, sig: int, frame) -> None:
        self.qemu.send_signal(sig)

    def abandon(self) -> None:
        """launch() failed or was interrupted: stop what it started."""
        if self.qemu.proc is not None:
            self.qemu.stop_now()
        self.dismiss_watchdog()
        self.held.cleanup()

    # -- release, and after ---------------------------------------------

    def dismiss_watchdog(self) -> None:
        if self.watchdog is not None:
            self.watchdog.dismiss()
            self.watchdog = None

    def release(self) -> None:
        self.dismiss_watchdog()            # it holds copies of the hold connections
        self.held.release()
        self.qemu.relay_stderr()
        self.timings.mark("released")
        self.timings.report()

    def detach(self) -> int:
        """-daemonize: the VM is configured and its monitors released, the
        pidfile in place: leave it running; returning signals readiness."""
        if self.verbose:
            say(f"daemonized: QEMU pid {self.qemu.pid}")
        return 0


def _quote(word: str) -> str:
    import shlex                        # only for -v: 0.7 ms of every start otherwise
    return shlex.quote(word)


