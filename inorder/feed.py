"""Launch QEMU with only a private monitor, stream the plan, release, supervise.

The first step QEMU refuses stops the feed: its message is reported at the
step's location, QEMU is shut down (quit, terminate, kill) and nothing is left
behind.  After the release inorder-qemu stays QEMU's parent: it relays QEMU's
stderr, passes SIGINT/SIGTERM/SIGHUP on, and exits with QEMU's status.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys

from .errors import FeedError, InorderError
from .plan import Plan, Step
from .process import Qemu, QemuDied

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(InorderError):
    def __init__(self, sig: int):
        super().__init__(f"interrupted by {signal.Signals(sig).name} while feeding: QEMU stopped")
        self.exit_status = 128 + sig


def run(plan: Plan, binary: str, *, verbose: bool = False) -> int:
    return asyncio.run(Feeder(plan, binary, verbose).run())


class Feeder:
    def __init__(self, plan: Plan, binary: str, verbose: bool):
        self.plan = plan
        self.verbose = verbose
        self.qemu = Qemu(binary, [])
        self.released = False
        self._signal: int | None = None

    def _argv(self) -> list[str]:
        extra = ["-S"]
        if self.plan.preconfig:
            extra.append("--preconfig")
        return self.plan.argv() + extra

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig, task)
        try:
            for monitor in self.plan.monitors:
                monitor.prepare()
            self.qemu.argv = self._argv()
            if self.verbose:
                _say("launch: " + " ".join(_quote(a) for a in self.qemu.command_line))
            try:
                await self.qemu.launch()
                for step in self.plan.qmp_steps:
                    await self._feed(step)
                if self.plan.quits:
                    return await self.qemu.wait()
                await self._release()
            except BaseException as e:
                await self.qemu.shutdown()
                if isinstance(e, asyncio.CancelledError) and self._signal is not None:
                    raise Interrupted(self._signal) from None
                raise
            return await self._supervise()
        finally:
            for sig in _SIGNALS:
                loop.remove_signal_handler(sig)
            for monitor in self.plan.monitors:
                monitor.cleanup()

    def _on_signal(self, sig: int, task: asyncio.Task) -> None:
        self._signal = sig
        if not self.released:
            task.cancel()
        elif self.qemu.proc and self.qemu.proc.returncode is None:
            # After the release the VM is the user's: pass the signal on, as
            # if QEMU had received it directly.
            self.qemu.proc.send_signal(sig)

    async def _feed(self, step: Step) -> None:
        from qemu.qmp import ExecuteError
        if self.verbose:
            _say(f"{step.command.loc}: [{step.phase}] -> {step.execute} "
                 f"{json.dumps(step.arguments) if step.arguments else ''}".rstrip())
        try:
            reply = await self.qemu.execute(step.execute, step.arguments)
        except ExecuteError as e:
            raise self._error(step, f"QEMU refused '{step.execute}': {e.error.error.desc}") from None
        except QemuDied as e:
            raise self._error(step, f"'{step.execute}' failed: {e.message}") from None
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

    def _error(self, step: Step, message: str) -> FeedError:
        err = FeedError(message, _blame(step, message), list(step.notes))
        if step.synthetic:
            err.note(None, f"'{step.execute}' was sent implicitly ({step.why.removeprefix('implicit: ')})")
        return err

    async def _release(self) -> None:
        for monitor in self.plan.monitors:
            monitor.release()
            if self.verbose:
                _say(f"released monitor {monitor.path}")
        self.released = True
        self.qemu.relay_stderr()

    async def _supervise(self) -> int:
        # The private monitor stays open: a closed socketpair would only make
        # QEMU log a disconnect, and we may need it for a clean stop.
        return await self.qemu.wait()


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


_NAMED = re.compile(r"(?:Parameter|Property|property) '([^']+)'")


def _say(text: str) -> None:
    print(f"inorder-qemu: {text}", file=sys.stderr, flush=True)


def _quote(word: str) -> str:
    import shlex
    return shlex.quote(word)
