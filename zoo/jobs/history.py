"""A job's events as the runner keeps them for its page: bounded in count and in bytes whatever the job sends.

Events are history: the curves need every metric point, so all are kept until there are MAX_EVENTS or
they take MAX_BYTES; then only every second one is kept, then every fourth, and so on (the stride doubles
whenever the budget is reached), so that a long run keeps an even sample of its whole curve. The first
event (a job's "before" figures) and the newest few (its note on stopping early, its "after" figures)
are always kept. An event marked LIVE_FRAME is a live board's frame (weights, a picture of the plane):
only the newest matters whole, so the one before it keeps only its numbers and short strings, for the
curves. Events keep their place: `since(start, stop)` counts every event received, kept or not.
"""
from __future__ import annotations

import pickle
from numbers import Real

LIVE_FRAME = "live_frame"
"""the event key (value True) that marks a live frame: superseded by the next, it keeps only its numbers"""
MAX_EVENTS = 4000
"""events kept per job before they are thinned: far more points than a curve can show"""
MAX_BYTES = 8 * 2 ** 20
"""bytes (as pickled) kept per job before its events are thinned"""
NEWEST = 3
"""the newest events, always kept whole"""
_SHORT_TEXT = 200
"""strings up to this long stay in a superseded frame"""


class EventHistory:
    """The kept events of one job and how many were received."""

    def __init__(self, max_events: int = MAX_EVENTS, max_bytes: int = MAX_BYTES) -> None:
        self.max_events, self.max_bytes = max_events, max_bytes
        self.received = 0
        self.nbytes = 0
        self.stride = 1                               # of the events older than the newest few, every stride-th is kept
        self._kept: list[tuple[int, dict, int]] = []  # (place among all received, event, its bytes)
        self._frame: int | None = None                # the place of the newest frame
        self._closed = False

    def add(self, event: dict, nbytes: int) -> None:
        """Keep `event`, `nbytes` long as received; shrink the frame it supersedes; thin to the budget."""
        place, self.received = self.received, self.received + 1
        if self._closed:
            return
        if event.get(LIVE_FRAME):
            if self._frame is not None:
                self._shrink(self._frame)
            self._frame = place
        self._kept.append((place, event, nbytes))
        self.nbytes += nbytes
        if len(self._kept) > NEWEST and not self._keeps(self._kept[-NEWEST - 1][0]):
            self._drop(len(self._kept) - NEWEST - 1)  # it has left the newest few, and is off the stride
        while len(self._kept) > self.max_events or self.nbytes > self.max_bytes:
            if not self._thin():
                break  # only the first and the newest few are left

    def since(self, start: int = 0, stop: int | None = None) -> list[dict]:
        """The kept events among the `start`-th to the `stop`-th received (to the latest when None)."""
        stop = self.received if stop is None else stop
        return [event for place, event, _ in self._kept if start <= place < stop]

    def close(self) -> None:
        """Drop every kept event and keep none that come later (they are still counted)."""
        self._kept, self._frame, self.nbytes, self._closed = [], None, 0, True

    def _keeps(self, place: int) -> bool:
        return place % self.stride == 0 or place >= self.received - NEWEST

    def _thin(self) -> bool:
        """Double the stride and drop the events off it; whether any went."""
        self.stride *= 2
        kept = [entry for entry in self._kept if self._keeps(entry[0])]
        dropped = len(self._kept) - len(kept)
        self._kept, self.nbytes = kept, sum(nbytes for _, _, nbytes in kept)
        return dropped > 0 or len(kept) > NEWEST + 1

    def _drop(self, index: int) -> None:
        self.nbytes -= self._kept.pop(index)[2]

    def _shrink(self, place: int) -> None:
        """Reduce the kept frame at `place` (if it still is kept) to its numbers and short strings."""
        index = next((i for i in range(len(self._kept) - 1, -1, -1) if self._kept[i][0] == place), None)
        if index is None:
            return
        _, frame, nbytes = self._kept[index]
        numbers = {key: value for key, value in frame.items() if _small(value)}
        kept = len(pickle.dumps(numbers))
        self._kept[index] = (place, numbers, kept)
        self.nbytes += kept - nbytes


def _small(value: object) -> bool:
    return value is None or isinstance(value, Real) or (isinstance(value, str) and len(value) <= _SHORT_TEXT)
