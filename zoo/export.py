"""A training run of the app as one Python file that repeats it outside the app (issue 22's "export as code").

The script calls the same job generator the page submits, with the page's settings as literals at its top
(CleanRL's habit), prints each event's numbers as the job yields them and saves the weights it returns.
Settings that cannot be literals (uploaded images, a person's text, long lists) travel beside it in sidecar
files, and script and sidecars download as one zip."""
from __future__ import annotations

import dataclasses
import inspect
import io
import math
import shutil
import subprocess
import textwrap
import zipfile
from datetime import datetime, timezone
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from zoo.i18n import t
from zoo.jobs.records import function_name

ROOT = Path(__file__).resolve().parents[1]
LITERAL_CHARS = 200
"""the longest text or list written as a literal in the script; longer ones go to a sidecar file"""
SCRIPT_NAMES = {"Integral", "Real", "Path", "np", "HERE", "SIDECAR", "event_numbers", "main"}
"""the names the script itself defines or imports, which no setting may take"""
MAX_SIDECAR_MB = 20
"""the most sidecar data an export carries: the server's upload limit, so every upload's arrays fit"""


class NotExportable(ValueError):
    """The run cannot be written as a script; the message is meant for the person at the browser, in their
    language (zoo/i18n/export.toml). The script itself, code, stays in English."""


@dataclasses.dataclass(frozen=True)
class ExportedRun:
    """A run's script, checked to compile, and the sidecar data it reads; `data()` packs them into the one file
    a person downloads (`file_name`, `mime`)."""
    stem: str
    script: str
    arrays: dict[str, np.ndarray]     # go into <stem>.npz under these keys
    texts: dict[str, str]             # file name -> text, each its own .txt

    @property
    def sidecars_needed(self) -> bool:
        return bool(self.arrays or self.texts)

    @property
    def file_name(self) -> str:
        return f"{self.stem}.zip" if self.sidecars_needed else f"{self.stem}.py"

    @property
    def mime(self) -> str:
        return "application/zip" if self.sidecars_needed else "text/x-python"

    def data(self) -> bytes:
        """The script, or a zip of the script and its sidecar files (the costly part, so only on a click)."""
        if not self.sidecars_needed:
            return self.script.encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{self.stem}.py", self.script)
            if self.arrays:
                arrays = io.BytesIO()
                np.savez_compressed(arrays, **self.arrays)
                archive.writestr(f"{self.stem}.npz", arrays.getvalue())
            for name, text in self.texts.items():
                archive.writestr(name, text)
        return buffer.getvalue()


def export_run(job: Callable[..., Iterator[dict]], job_kwargs: dict[str, Any], page: str, stem: str,
               weights_file: str | None = None) -> ExportedRun:
    """The run `job(**job_kwargs)` of `page` as a script `<stem>.py` (with sidecars where settings need them)
    that saves its weights to `weights_file`; raises NotExportable with a sentence when it cannot be written."""
    if "<" in job.__qualname__ or job.__module__ == "__main__":
        raise NotExportable(t("export.job_in_page"))
    writer = _SettingsWriter(stem)
    settings, comments = {}, {}
    parameters = {name: p for name, p in inspect.signature(job).parameters.items()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    for name, value in job_kwargs.items():
        settings[name] = writer.expression(value, name)
        comments[name] = _comment(parameters.get(name), "set on the page")
    for name, parameter in parameters.items():
        if name not in settings and parameter.default is not parameter.empty:
            settings[name] = writer.expression(parameter.default, name)
            comments[name] = _comment(parameter, "the job's default")
    sidecar_bytes = sum(a.nbytes for a in writer.arrays.values()) + sum(len(t.encode()) for t in writer.texts.values())
    megabytes = sidecar_bytes / 2 ** 20
    if megabytes > MAX_SIDECAR_MB:
        raise NotExportable(t("export.too_big", megabytes=megabytes, limit=MAX_SIDECAR_MB))
    writer.names(job)
    imported = {name for names in writer.imports.values() for name in names}
    if taken := sorted(set(settings) & (SCRIPT_NAMES | imported)):
        raise NotExportable(t("export.name_taken", setting=repr(taken[0])))
    checkpoint = job_kwargs.get("name") if isinstance(job_kwargs.get("name"), str) else None
    sidecars = [f"{stem}.npz"] * bool(writer.arrays) + list(writer.texts)
    script = _SCRIPT.format(
        docstring=_docstring(job, page, checkpoint, stem, weights_file, sidecars, list(writer.arrays)),
        imports="\n".join(["import numpy as np"] * bool(writer.arrays) + [
            f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(writer.imports.items())]),
        sidecar=f'SIDECAR = np.load(HERE / "{stem}.npz")\n' if writer.arrays else "",
        settings="\n".join(f"{name} = {value}  # {comments[name]}" for name, value in settings.items()),
        job=job.__name__, arguments="".join(f"\n        {name}={name}," for name in settings),
        save=_SAVE.format(weights_file=weights_file) if weights_file else _NOT_WEIGHTS)
    try:
        compile(script, f"{stem}.py", "exec")
    except SyntaxError as error:
        raise NotExportable(t("export.not_compiling", error=error.msg, line=error.lineno)) from error
    return ExportedRun(stem, script, writer.arrays, writer.texts)


def _docstring(job: Callable, page: str, checkpoint: str | None, stem: str, weights_file: str | None,
               sidecars: list[str], arrays: list[str]) -> str:
    """What the script reproduces, from where and when, how to run it, what it prints and saves, its sidecars."""
    commit = zoo_commit()
    start = (f", starting from the shipped checkpoint {checkpoint!r} (loaded by name through zoo.checkpoints),"
             if checkpoint else "")
    files = [f"{stem}.py", *sidecars]
    paragraphs = [
        f"The run of {function_name(job)} from the Deep Learning Zoo's {page!r} page{start} with that page's "
        f"settings (below). Exported {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        + (f" from the zoo at commit {commit}." if commit else "."),
        f"Run it in a clone of the zoo{' at that commit' if commit else ''} with its requirements installed "
        "(scripts/install.sh): it imports the zoo's packages `zoo` and `models` for the job"
        + (" and the shipped checkpoint" if checkpoint else "") + ", and reads data sets where the zoo does "
        "(the README says where). Either put " + ", ".join(files) + " in the clone's root folder and run "
        f"`python {stem}.py` there, or run `PYTHONPATH=/path/to/the/zoo python {stem}.py` in the folder that holds "
        + ("them." if sidecars else "it."),
        "It prints one line per event: the step and the numbers the page plots, as the job yields them"
        + (f"; then it saves the weights (safetensors) beside this file as {weights_file}." if weights_file else "."),
    ]
    if sidecars:
        paragraphs.append(" ".join(
            [f"Sidecar {stem}.npz holds the settings that are arrays or long lists ({', '.join(arrays)})."]
            * bool(arrays)
            + [f"Sidecar {name} holds a text setting." for name in sidecars if name.endswith(".txt")])
            + " Keep them beside this file.")
    return "\n\n".join(textwrap.fill(paragraph, 100, break_on_hyphens=False, break_long_words=False)
                       for paragraph in paragraphs)


def _comment(parameter: inspect.Parameter | None, origin: str) -> str:
    """A setting's comment in the script: its type, where its value comes from, why a seed matters."""
    if parameter is None or parameter.annotation is parameter.empty:
        return origin
    annotation = parameter.annotation
    if not isinstance(annotation, str):
        annotation = inspect.formatannotation(annotation)
    note = "; the same seed repeats the run" if parameter.name == "seed" else ""
    return f"{annotation}, {origin}{note}"


class _SettingsWriter:
    """Writes setting values as Python expressions, sending arrays, long texts and long lists to sidecars."""

    def __init__(self, stem: str) -> None:
        self.stem = stem
        self.imports: dict[str, set[str]] = {}   # module -> the names the script imports from it
        self.arrays: dict[str, np.ndarray] = {}
        self.texts: dict[str, str] = {}

    def expression(self, value: Any, path: str) -> str:
        if value is None or isinstance(value, (bool, np.bool_)):
            return repr(None if value is None else bool(value))
        if isinstance(value, Integral):
            return repr(int(value))
        if isinstance(value, Real):
            number = float(value)
            return repr(number) if math.isfinite(number) else f'float("{number}")'
        if isinstance(value, str):
            return self._text(value, path)
        if isinstance(value, range):
            return repr(value)
        if isinstance(value, np.ndarray):
            return self._array(value, path)
        if isinstance(value, (list, tuple)):
            plain = [v.item() if isinstance(v, np.generic) else v for v in value]
            one_kind = len({type(v) for v in plain}) == 1 and isinstance(plain[0], (str, int, float))
            if one_kind and len(repr(plain)) > LITERAL_CHARS:
                listed = f"{self._array(np.array(plain), path)}.tolist()"
                return listed if isinstance(value, list) else f"tuple({listed})"
            items = [self.expression(v, f"{path}.{i}") for i, v in enumerate(value)]
            if isinstance(value, list):
                return f"[{', '.join(items)}]"
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
            return "{" + ", ".join(f"{k!r}: {self.expression(v, f'{path}.{k}')}" for k, v in value.items()) + "}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            cls = type(value)
            if "<" in cls.__qualname__ or cls.__module__ == "__main__":
                raise NotExportable(t("export.setting_in_page", setting=repr(path)))
            self.names(cls)
            fields = ", ".join(f"{f.name}={self.expression(getattr(value, f.name), f'{path}.{f.name}')}"
                               for f in dataclasses.fields(value) if f.init)
            return f"{cls.__name__}({fields})"
        raise NotExportable(t("export.setting_in_app", setting=repr(path), kind=type(value).__name__))

    def names(self, thing: Callable) -> None:
        """Have the script import the function or class `thing` by its module and name."""
        self.imports.setdefault(thing.__module__, set()).add(thing.__name__)

    def _text(self, text: str, path: str) -> str:
        if len(text) <= LITERAL_CHARS and "\n" not in text:
            return repr(text)
        name = f"{self.stem}.{path}.txt"
        self.texts[name] = text
        return f'(HERE / "{name}").read_bytes().decode("utf-8")'  # as written: no newline translation

    def _array(self, array: np.ndarray, path: str) -> str:
        if array.dtype.kind == "O":
            raise NotExportable(t("export.mixed_kinds", setting=repr(path)))
        self.arrays[path] = array
        return f'SIDECAR["{path}"]'


@lru_cache(maxsize=1)
def zoo_commit() -> str | None:
    """The zoo's git commit (short), if this is a git checkout and git is installed."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run([git, "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


_SAVE = """\
    (HERE / "{weights_file}").write_bytes(result)
    print(f"Saved the weights to {{HERE / '{weights_file}'}}")
"""

_NOT_WEIGHTS = """\
    print(f"The job returned a {type(result).__name__}, which this script does not save.")
"""

_SCRIPT = '''\
"""{docstring}
"""
from numbers import Integral, Real
from pathlib import Path

{imports}

HERE = Path(__file__).resolve().parent
{sidecar}
# Settings: the page's choices, then the job's defaults
{settings}


def event_numbers(event: dict, prefix: str = "") -> dict:
    """The event's numbers, nested ones as `before.test`: what the page plots and reports."""
    found = {{}}
    for key, value in event.items():
        if isinstance(value, dict):
            found.update(event_numbers(value, f"{{prefix}}{{key}}."))
        elif isinstance(value, Real) and not isinstance(value, bool):
            found[f"{{prefix}}{{key}}"] = value
    return found


def main() -> None:
    run = {job}({arguments}
    )
    while True:
        try:
            event = next(run)
        except StopIteration as finished:
            result = finished.value
            break
        shown = event_numbers(event)
        if shown:
            print("  ".join(f"{{key}}={{value}}" if isinstance(value, Integral) else f"{{key}}={{value:.6g}}"
                            for key, value in shown.items()), flush=True)
{save}

if __name__ == "__main__":
    main()
'''
