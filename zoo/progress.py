"""Progress bars for the command-line tools: a long loop anywhere in the zoo iterates through `bar`,
which draws a tqdm bar once a CLI has called `enable()`, so the app and the tests print nothing."""
from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")
_enabled = False


def enable() -> None:
    """Draw bars from now on in this process (the CLIs call it first)."""
    global _enabled
    _enabled = True


def bar(items: Iterable[T], description: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """`items`, drawing a bar that vanishes when done while bars are enabled; `items` itself otherwise."""
    if not _enabled:
        return items
    return tqdm(items, desc=description, total=total, unit=unit, leave=False, dynamic_ncols=True)
