# -*- coding: utf-8 -*-
"""Progress of a Thales play: each health gate and each host's rolling step as it passes."""

DOCUMENTATION = r"""
name: thales_progress
type: aggregate
short_description: one line per passed (or failed) health gate and per finished host
description:
  - "Tasks named C(gate: ...) are health gates, tasks named C(done: ...) end a host's step;
    each is reported with the host, how long it took and how many attempts it needed."

  - With THALES_PROGRESS_FILE set, every event is also appended to that file as a JSON line.
requirements: [enable in ansible.cfg (callbacks_enabled)]
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "thales_progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._started = {}
        self._run_started = time.time()
        self._file = os.environ.get("THALES_PROGRESS_FILE")

    def _emit(self, event, **fields):
        fields.update(event=event, at=round(time.time(), 3))
        elapsed = time.time() - self._run_started
        text = fields.get("text", "")
        self._display.display("[progress %6.1fs] %s" % (elapsed, text), color="cyan")
        if self._file:
            with open(self._file, "a", encoding="utf-8") as out:
                out.write(json.dumps(fields) + "\n")

    @staticmethod
    def _kind(name):
        # Role tasks are named "<role> : <task name>".
        name = name.split(" : ", 1)[-1]
        for kind in ("gate", "done"):
            if name.startswith(kind + ":"):
                return kind, name[len(kind) + 1:].strip()
        return None, name

    def v2_playbook_on_play_start(self, play):
        name = play.get_name().strip()
        self._emit("play", play=name, text="play: %s" % name)

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.time()
        # THALES_PROGRESS_TASK_TIMES=1: how long each task took, to see where a play's time goes.
        if os.environ.get("THALES_PROGRESS_TASK_TIMES") and getattr(self, "_last", None):
            name, started = self._last
            self._display.display("[task %5.1fs] %s" % (now - started, name))
        self._last = (task.get_name(), now)
        self._started[task._uuid] = now

    def v2_playbook_on_handler_task_start(self, task):
        self._started[task._uuid] = time.time()

    def _seconds(self, result):
        started = self._started.get(result._task._uuid)
        return round(time.time() - started, 1) if started else None

    def v2_runner_on_ok(self, result):
        kind, what = self._kind(result._task.get_name())
        if kind is None:
            return
        host = result._host.get_name()
        attempts = result._result.get("attempts", 1)
        seconds = self._seconds(result)
        if kind == "gate":
            text = "%s: passed %s (%ss, %s attempt%s)" % (
                host, what, seconds, attempts, "" if attempts == 1 else "s")
        else:
            text = "%s: %s" % (host, what)
        self._emit(kind, host=host, check=what, seconds=seconds, attempts=attempts, text=text)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        kind, what = self._kind(result._task.get_name())
        if kind != "gate" or ignore_errors:
            return
        host = result._host.get_name()
        res = result._result
        last = res.get("summary") or res.get("json") or res.get("msg")
        text = "%s: FAILED %s after %ss (%s attempts); last answer: %s" % (
            host, what, self._seconds(result), res.get("attempts", 1), json.dumps(last)[:300])
        self._emit("gate_failed", host=host, check=what, text=text)

    def v2_runner_retry(self, result):
        kind, what = self._kind(result._task.get_name())
        attempts = result._result.get("attempts", 0)
        # Every 10th attempt: the operator sees that a gate is still waiting, and on what.
        if kind == "gate" and attempts % 10 == 0:
            res = result._result
            last = res.get("summary") or res.get("json") or res.get("msg")
            self._emit("gate_waiting", host=result._host.get_name(), check=what,
                       text="%s: still waiting for %s (attempt %s): %s" % (
                           result._host.get_name(), what, attempts, json.dumps(last)[:200]))

    def v2_playbook_on_stats(self, stats):
        failed = sorted(h for h in stats.processed if stats.failures.get(h) or stats.dark.get(h))
        self._emit("end", failed=failed, seconds=round(time.time() - self._run_started, 1),
                   text="finished in %.1fs%s" % (
                       time.time() - self._run_started,
                       ", FAILED on " + ", ".join(failed) if failed else ""))
