"""The feed: every QMP step of the plan, in order, over the private link.

Runs of pipeline-safe steps (qemu/commands.py) are sent without waiting for
each answer, up to WINDOW in flight; QEMU runs a monitor's commands in order,
so the first failure is still the one reported.  Any other step waits for
every earlier answer and is sent alone.  The answer of a QMP command written
in the script is the script's output (stdout), as in qmp-shell.
"""

from __future__ import annotations

import asyncio
import json
import sys

from qemu.qmp import ExecuteError

from ..errors import FeedError, InorderError, QemuDied, say
from ..plan.step import Plan, Step
from ..qemu import messages
from ..qemu.commands import pipeline_safe
from . import blame
from .link import Link

WINDOW = 32


class Feed:
    def __init__(self, plan: Plan, link: Link, verbose: bool, interrupted, refused,
                 expect: bool = False):
        self.plan = plan
        self.expect = expect              # --expect: answers must be as captured
        self.refused = refused            # QEMU's exit as a located error, or None
        self.link = link
        self.verbose = verbose
        self.interrupted = interrupted    # raises if a signal asked to stop

    async def run(self) -> None:
        pending: list = []
        try:
            for step in self.plan.qmp_steps:
                self.interrupted()        # before every step: a barrier too
                if not pipeline_safe(step.execute, step.arguments):
                    while pending:
                        await self._answer(*pending.pop(0))
                    echo(step, self.verbose)
                    await self._answer(step, self._send(step))
                    continue
                echo(step, self.verbose)
                pending.append((step, asyncio.ensure_future(self._send(step))))
                if len(pending) >= WINDOW:
                    await self._answer(*pending.pop(0))
                self.interrupted()
            while pending:
                await self._answer(*pending.pop(0))
        finally:
            for _, task in pending:               # after a failure: QEMU stops anyway
                task.cancel()
            if pending:
                await asyncio.gather(*(t for _, t in pending), return_exceptions=True)

    def _send(self, step: Step):
        return self.link.execute(step.execute, step.arguments)

    async def _answer(self, step: Step, reply_of) -> None:
        captured = step.command.expect if self.expect and step.command else None
        try:
            reply = await reply_of
        except ExecuteError as e:
            said = {"class": e.error.error.class_, "desc": e.error.error.desc}
            if captured is not None:
                _compare(step, captured, {"error": said})
                return                    # refused as it was when captured
            raise blame.error(step, f"QEMU refused '{step.execute}': {e.error.error.desc}") from e
        except QemuDied as e:
            raise self.refused() or blame.error(
                step, f"'{step.execute}' failed: {e.message}") from e
        except InorderError as e:
            raise blame.error(step, e.message) from e
        if self.verbose:
            say(f"{step.command.loc}: <- {json.dumps(reply)}")
        if captured is not None:
            _compare(step, captured, {"return": reply})
        if step.command is not None and step.command.is_option and \
                step.execute == "human-monitor-command" and \
                str(reply).strip() != messages.HMP_OK:
            raise blame.error(step, f"QEMU refused '-{step.command.name}': "
                                    f"{str(reply).strip()}")
        if step.shows_reply and reply not in ({}, None, []):
            # HMP text (human-monitor-command) as it is, anything else as JSON
            text = reply if isinstance(reply, str) else json.dumps(reply)
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()


def _compare(step: Step, captured, live: dict) -> None:
    """--expect: the live answer must be the captured one (an error by its
    class and description); the first difference stops the feed, at the
    captured line."""
    msg, loc = captured
    want = {k: msg[k] for k in ("return", "error") if k in msg}
    if "error" in want and isinstance(want["error"], dict):
        want["error"] = {k: want["error"].get(k) for k in ("class", "desc")}
    if want == live:
        return
    err = FeedError(f"QEMU's answer to '{step.execute}' differs from the transcript: "
                    f"captured {json.dumps(want)}, live {json.dumps(live)}", loc)
    err.note(step.command.loc, "the command")
    raise err


def echo(step: Step, verbose: bool) -> None:
    if verbose:
        say(f"{step.command.loc}: [{step.phase}] -> {step.execute} "
            f"{json.dumps(step.arguments) if step.arguments else ''}".rstrip())


