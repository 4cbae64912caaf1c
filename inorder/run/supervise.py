"""The rest of a supervised run, on the event loop: attach to the private
monitor, feed, release, then supervise QEMU until it exits.

Imported by session.py only after QEMU was spawned: asyncio, qemu.qmp and
logging take about as long to import as QEMU takes to greet.

Signals: before the release, SIGINT/SIGTERM/SIGHUP stop the feed and QEMU
(exit 128 + N of the first one; more signals meanwhile change nothing: the
shutdown ladder runs to its end); after it, the VM is the user's and they are
passed on to QEMU.
"""

from __future__ import annotations

import asyncio
import logging

from ..errors import Interrupted, LaunchError, QemuDied
from .feed import Feed
from .link import Link
from .session import SIGNALS, Session


def run(session: Session, debug: bool) -> int:
    # qemu.qmp logs a lost connection as an error; QEMU quitting is normal here
    logging.getLogger("qemu.qmp").addHandler(logging.NullHandler())
    logging.getLogger("qemu.qmp").propagate = debug
    return asyncio.run(Supervisor(session).run())


class Supervisor:
    def __init__(self, session: Session):
        self.session = session
        self.qemu = session.qemu
        self.held = session.held
        self.link = Link(session.qemu)
        self._signal: int | None = None
        self._stopping = False            # down the shutdown ladder: not to be cancelled
        self._watched: list[int] = []     # holds whose acceptance by QEMU is awaited

    async def run(self) -> int:
        session, plan = self.session, self.session.plan
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig, task)
        keep_sockets = False
        try:
            try:
                self.qemu.watch()
            except BaseException:           # no pidfd (out of fds, say): no QEMU left
                self.qemu.stop_now()
                raise
            if self.held.released:      # by the handshake: only supervision is left
                self.link.drain()
                return await self._supervise()
            try:
                await self._attach()
                for monitor in self.held.monitors:
                    monitor.hold_now(session.watchdog)
                self._place_when_accepted()
                session.timings.mark("greeting")
                await Feed(plan, self.link, session.verbose, self._interrupted,
                           session.refused, session.expect).run()
                self._interrupted()
                session.timings.mark("fed")
                if plan.quits:
                    session.dismiss_watchdog()
                    return await self._supervise()
                self._unwatch()
                session.release()
            except BaseException as e:
                self._stopping = True
                await self.qemu.shutdown(self.link)
                if isinstance(e, asyncio.CancelledError) and self._signal is not None:
                    raise Interrupted(self._signal) from e
                raise
            finally:
                session.dismiss_watchdog()
            if plan.daemonize:
                keep_sockets = True
                return session.detach()
            return await self._supervise()
        finally:
            self._unwatch()
            for sig in SIGNALS:
                loop.remove_signal_handler(sig)
            self.held.cleanup(keep_sockets)

    async def _attach(self) -> None:
        if self.held.terminal is not None:
            self.held.terminal.started()
        try:
            await self.link.connect()
        except QemuDied as e:
            self.session.blame_exit(e)

    def _place_when_accepted(self) -> None:
        """Each new unix socket goes to the user's path as soon as QEMU has
        accepted its hold (monitors.py), while the feed goes on."""
        loop = asyncio.get_running_loop()
        for monitor in self.held.monitors:
            if monitor.waiting and monitor.hold is not None:
                fd = monitor.hold.fileno()

                def accepted(monitor=monitor, fd=fd):
                    loop.remove_reader(fd)
                    self._watched.remove(fd)
                    try:
                        monitor.place()
                    except LaunchError:
                        pass              # tried again at the release, which reports it
                loop.add_reader(fd, accepted)
                self._watched.append(fd)

    def _unwatch(self) -> None:
        loop = asyncio.get_running_loop()
        while self._watched:
            loop.remove_reader(self._watched.pop())

    def _on_signal(self, sig: int, task) -> None:
        if not self.held.released:
            # The first signal stops the feed; the shutdown ladder that follows
            # must run to its end, whatever signals come after (a second
            # cancellation would abandon QEMU half-way down the ladder).
            if self._signal is None and not self._stopping:
                self._signal = sig
                task.cancel()
        else:
            # After the release the VM is the user's: pass the signal on, as
            # if QEMU had received it directly.
            self.qemu.send_signal(sig)

    def _interrupted(self) -> None:
        """A signal cancels the feed task, but asyncio.wait_for of Python
        3.11 can swallow a cancellation that lands as its inner future
        completes: check the signal too."""
        if self._signal is not None and not self.held.released:
            raise asyncio.CancelledError

    async def _supervise(self) -> int:
        # The private monitor stays open until QEMU exits: a closed socketpair
        # would only make QEMU log a disconnect, and the ladder may need it.
        status = await self.qemu.wait()
        await self.link.close()
        if self.held.terminal is not None:
            await self.held.terminal.drain()
        return status
