"""Every sentence a person reads, in English, Simplified Chinese or Russian: `t(key, **values)` finds the key in
the catalogues beside this file (one TOML file per page or part, the three languages side by side under each key)
and fills its placeholders, writing numbers the way the reader's language does."""
from __future__ import annotations

import string
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from numbers import Number
from pathlib import Path
from typing import Any, Callable, Iterator

LANGUAGES = {"en": "English", "zh": "简体中文", "ru": "Русский"}
"""the languages a person can read the zoo in, by code, each named in itself"""
DEFAULT = "en"
CATALOGUES = Path(__file__).resolve().parent

_speaking: ContextVar[str | None] = ContextVar("zoo_language", default=None)
_session_language: Callable[[], str | None] = lambda: None


def supported(code: str | None) -> str | None:
    """The zoo's code for a language tag ("zh-CN" -> "zh", "ru" -> "ru"), or None if it does not speak it."""
    code = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def follow(session_language: Callable[[], str | None]) -> None:
    """Take the language from `session_language()` (the visitor's, set by zoo.ui) wherever `speaking` is not in force."""
    global _session_language
    _session_language = session_language


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Within this block `t` speaks `code`: a job's worker speaks the language of the visitor who started it."""
    token = _speaking.set(supported(code) or DEFAULT)
    try:
        yield
    finally:
        _speaking.reset(token)


def language() -> str:
    """The code of the language `t` speaks now."""
    return _speaking.get() or supported(_session_language()) or DEFAULT


def t(key: str, **values: Any) -> str:
    """The text under `key` in the current language (English where that catalogue lacks it), its `{placeholders}`
    filled from `values`; an unknown key raises KeyError, as a typo should."""
    entry = catalogue()[key]
    return _FORMATTER.format(entry.get(language()) or entry[DEFAULT], **values)


def count(key: str, n: int, **values: Any) -> str:
    """`n` of something with its noun in the form the language needs ("1 step", "2 шага", "5 шагов"): the entries
    `key.one`, `key.few` and `key.many`, each with a `{n}` (English uses one and many, Chinese many)."""
    return t(f"{key}.{_plural_form(n, language())}", n=n, **values)


def as_drawn(label: Callable[[Any], str]) -> Callable[[Any], str]:
    """`label` as a choice widget's `format_func`, speaking the language of the run that draws the widget wherever
    it is called later (AppTest formats the options it sends back in its own thread, outside the run)."""
    code = language()

    def shown(option: Any) -> str:
        with speaking(code):
            return label(option)
    return shown


def code_of(label: str, codes: dict[str, str], key: str) -> str | None:
    """The code of a label a page gives: the label itself is one of `codes`, or it is a code's name (under
    `key.format(code)`) in the reader's language, as a page that translated it passes it; None if neither."""
    if label in codes:
        return codes[label]
    return next((code for code in codes.values() if t(key.format(code)).lower() == label.lower()), None)


def t_for(code: str, key: str, **values: Any) -> str:
    """`t(key, **values)` in the language `code`: for text made outside any visitor's session (a job runner's thread)."""
    with speaking(code):
        return t(key, **values)


def number(value: Number, spec: str = ",") -> str:
    """`format(value, spec)` as the current language writes it (Russian: 1 234,5 and 12,5 %)."""
    return _localised(format(value, spec), language())


def placeholders(text: str) -> set[str]:
    """The names and format specs of the placeholders in a catalogue text ("{n:,}" -> {"n:,"})."""
    return {f"{name}:{spec}" if spec else name for _, name, spec, _ in string.Formatter().parse(text) if name is not None}


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every key ("cnn.intro": the file's name, then its table's) with its text per language."""
    entries: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUES.glob("*.toml")):
        with path.open("rb") as file:
            _flatten(path.stem, tomllib.load(file), entries)
    return entries


def _flatten(prefix: str, table: dict[str, Any], entries: dict[str, dict[str, str]]) -> None:
    """A table whose values are texts is one entry; any other table holds more keys below its name."""
    if all(isinstance(value, str) for value in table.values()):
        entries[prefix] = table
        return
    for name, value in table.items():
        if not isinstance(value, dict):
            raise ValueError(f"{prefix}.{name}: a key's table holds only its texts by language")
        _flatten(f"{prefix}.{name}", value, entries)


def _plural_form(n: int, code: str) -> str:
    """Which of one / few / many `n` takes in the language `code` (CLDR's rules for integers)."""
    if code == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        return "few" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "many"
    return "one" if code == "en" and n == 1 else "many"


def _localised(text: str, code: str) -> str:
    """English digits and separators rewritten for `code`: Russian groups thousands with a narrow space and
    writes a decimal comma and a spaced percent sign; Chinese writes numbers as English does."""
    if code != "ru":
        return text
    return text.replace(",", "\u202f").replace(".", ",").replace("%", "\u00a0%")


class _LocalFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        text = format(value, format_spec)
        if isinstance(value, Number) and not isinstance(value, bool) and format_spec:
            return _localised(text, language())
        return text


_FORMATTER = _LocalFormatter()
