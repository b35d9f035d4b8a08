"""How fast a job ran on this server, measured by the runner from the events it passed on, and the
estimate before the next run that rests on it: its start, its steps per second, its end."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from zoo import i18n
from zoo.i18n import t
from zoo.jobs.deadline import STOPPED_EARLY, reserve_s

_PLAIN_TEXT = 80
"""strings up to this long are settings (a model's name, a cell); longer ones are data (a person's text)"""


def plain_settings(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A job's arguments that say how it runs (numbers, switches, names, tuples and dataclasses of
    them), without its data and without `steps`, which the estimate scales by."""
    return {name: value for name, value in kwargs.items() if name != "steps" and _plain(value)}


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, Real):
        return True
    if isinstance(value, str):
        return len(value) <= _PLAIN_TEXT
    if isinstance(value, tuple):
        return all(map(_plain, value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_plain(getattr(value, field.name)) for field in dataclasses.fields(value))
    return False


@dataclass(frozen=True)
class Pace:
    """One finished run of a job on this server, timed from its events."""

    steps: int               # the last step it reported
    total: int | None        # the steps it was asked for, where its events said ("total")
    steps_per_s: float       # between its first and its last step
    setup_s: float           # from its start to its first step: loading, the "before" figures
    finish_s: float          # from its last step to its end: the "after" figures, the weights
    settings: dict[str, Any]  # its plain_settings

    def seconds(self, steps: int) -> float:
        """About how long a run of `steps` steps takes at this pace."""
        return self.setup_s + steps / self.steps_per_s + self.finish_s

    def steps_within(self, limit_s: float) -> int:
        """About how many steps a run does before the time limit makes it wrap up (zoo.jobs.deadline)."""
        stepping = limit_s - reserve_s(self.setup_s, limit_s) - self.setup_s
        return max(1, int(stepping * self.steps_per_s))

    def differing(self, kwargs: dict[str, Any]) -> list[str]:
        """The names of the settings in which a run with `kwargs` differs from this one."""
        now = plain_settings(kwargs)
        return sorted(name for name in now.keys() | self.settings.keys()
                      if now.get(name) != self.settings.get(name))

    def estimate(self, kwargs: dict[str, Any], steps: int, limit_s: float, label: str) -> str:
        """What a person reads before starting a run of `steps` steps with `kwargs`: how long it will
        take, where that figure comes from, and whether it fits the time limit."""
        seconds = self.seconds(steps)
        rate = i18n.number(self.steps_per_s, ",.0f" if self.steps_per_s >= 10 else ".2g")
        others = self.differing(kwargs)
        text = t("jobs.estimate_other_settings" if others else "jobs.estimate", duration=_duration(seconds), steps=i18n.count("jobs.steps", steps),
                 rate=rate, setup=_duration(self.setup_s + self.finish_s), label=label,
                 settings=", ".join(f"`{name}`" for name in others))
        if seconds > limit_s:
            text += " " + t("jobs.estimate_over_limit", seconds=limit_s,
                             steps=i18n.count("jobs.steps", min(self.steps_within(limit_s), steps)))
        return text


def not_measured(limit_s: float, label: str) -> str:
    """What a person reads before the server has timed a run of this job."""
    return t("jobs.not_measured", label=label, seconds=limit_s)


def _duration(seconds: float) -> str:
    """Seconds, at least 1 (every estimate begins "About"), or minutes from 90 s."""
    if seconds < 90:
        return t("jobs.duration.seconds", seconds=max(seconds, 1))
    return t("jobs.duration.minutes", minutes=seconds / 60)


class PaceMeter:
    """Times one run from the events it yields: its start, its first and last steps, its end."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.started: float | None = None
        self.first: tuple[int, float] | None = None  # (step, when)
        self.last: tuple[int, float] | None = None
        self.total: int | None = None
        self.stepping = True  # until a note says the job stopped early: what follows is its end

    def start(self, now: float) -> None:
        self.started = now

    def observe(self, event: dict, now: float) -> None:
        """Note a step event; step 0 (the "before" figures) and events after the last step do not count."""
        step = event.get("step")
        if not self.stepping or not isinstance(step, Integral) or step < 1:
            return
        if isinstance(event.get("total"), Integral):
            self.total = int(event["total"])
        if self.first is None:
            self.first = (int(step), now)
        if self.last is None or step > self.last[0]:
            self.last = (int(step), now)
        self.stepping = STOPPED_EARLY not in event

    def pace(self, ended: float) -> Pace | None:
        """The run's pace once it has ended, or None if it did not step enough to time."""
        if self.started is None or self.first is None or self.last[0] <= self.first[0] \
                or self.last[1] <= self.first[1]:
            return None
        rate = (self.last[0] - self.first[0]) / (self.last[1] - self.first[1])
        setup = max(0.0, self.first[1] - self.started - self.first[0] / rate)
        return Pace(self.last[0], self.total, rate, setup, max(0.0, ended - self.last[1]), self.settings)
