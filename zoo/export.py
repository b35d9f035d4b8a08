"""A training run of the app as one Python file that repeats it outside the app (issue 22's "export as code").

The script holds the job and every piece of the zoo's code it runs, copied (`zoo.inline_sources`), so it reads
as PyTorch and needs only outside packages, plus `zoo.checkpoints` when it starts from a shipped checkpoint.
The page's settings are literals (CleanRL's habit); it prints each event's numbers as the job yields them and
saves the weights it returns. Settings that cannot be literals (uploaded images, a person's text, long lists)
travel beside it in sidecar files, and script and sidecars download as one zip."""
from __future__ import annotations

import dataclasses
import inspect
import io
import math
import shutil
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime, timezone
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from zoo.i18n import t
from zoo.inline_sources import ENGLISH_STAND_INS, InlinedSources, NotInlinable
from zoo.jobs.records import function_name

ROOT = Path(__file__).resolve().parents[1]
LITERAL_CHARS = 200
"""the longest text or list written as a literal in the script; longer ones go to a sidecar file"""
SCRIPT_IMPORTS = {"Path": ("pathlib", "Path"), "Integral": ("numbers", "Integral"), "Real": ("numbers", "Real")}
"""what the script itself imports, by the name it uses (and numpy as np, for its sidecar)"""
SCRIPT_NAMES = {*SCRIPT_IMPORTS, "np", "HERE", "SIDECAR", "MESSAGES", "ZOO_ROOT", "event_numbers", "main"}
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
    parameters = {name: p for name, p in inspect.signature(job).parameters.items()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if taken := sorted(set(job_kwargs) & SCRIPT_NAMES):
        raise NotExportable(t("export.name_taken", setting=repr(taken[0])))
    code = InlinedSources(reserved=SCRIPT_NAMES - {*SCRIPT_IMPORTS, "np"} | set(parameters) | set(job_kwargs))
    for module, name in SCRIPT_IMPORTS.values():
        code.import_from(module, name)
    code.import_module("numpy", "np", used=False)  # the copied code's numpy too, as np
    writer = _SettingsWriter(stem, code)
    settings, comments = {}, {}
    try:
        for name, value in job_kwargs.items():
            settings[name] = writer.expression(value, name)
            comments[name] = _comment(parameters.get(name), "set on the page")
        for name, parameter in parameters.items():
            if name not in settings and parameter.default is not parameter.empty:
                settings[name] = writer.expression(parameter.default, name)
                comments[name] = _comment(parameter, "the job's default")
        if writer.arrays:
            code.import_module("numpy", "np")
        job_name = code.name_of(job)
        code.finish()
    except NotInlinable as error:
        raise NotExportable(t("export.not_inlinable", reason=str(error))) from error
    sidecar_bytes = sum(a.nbytes for a in writer.arrays.values()) + sum(len(t.encode()) for t in writer.texts.values())
    megabytes = sidecar_bytes / 2 ** 20
    if megabytes > MAX_SIDECAR_MB:
        raise NotExportable(t("export.too_big", megabytes=megabytes, limit=MAX_SIDECAR_MB))
    checkpoint = job_kwargs.get("name") if isinstance(job_kwargs.get("name"), str) else None
    sidecars = [f"{stem}.npz"] * bool(writer.arrays) + list(writer.texts)
    script = _SCRIPT.format(
        docstring=_docstring(job, page, checkpoint, stem, weights_file, sidecars, list(writer.arrays), code),
        imports=_import_block(code.import_lines()),
        zoo_root=_ZOO_ROOT if code.uses_zoo_root else "",
        sidecar=f'SIDECAR = np.load(HERE / "{stem}.npz")\n' if writer.arrays else "",
        copied=_copied_code(code),
        settings="\n".join(f"{name} = {code.named(value)}  # {comments[name]}" for name, value in settings.items()),
        job=code.named(job_name), arguments="".join(f"\n        {name}={name}," for name in settings),
        save=_SAVE.format(weights_file=weights_file) if weights_file else _NOT_WEIGHTS)
    try:
        compile(script, f"{stem}.py", "exec")
    except SyntaxError as error:
        raise NotExportable(t("export.not_compiling", error=error.msg, line=error.lineno)) from error
    return ExportedRun(stem, script, writer.arrays, writer.texts)


def _import_block(lines: list[str]) -> str:
    """The script's imports: the standard library's, then other packages', then the zoo's, each sorted."""
    def group(line: str) -> int:
        top = line.split()[1].split(".")[0]
        return 0 if top in sys.stdlib_module_names else 2 if top in ("zoo", "models") else 1
    groups = [sorted(line for line in lines if group(line) == g) for g in range(3)]
    return "\n\n".join("\n".join(g) for g in groups if g)


def _copied_code(code: InlinedSources) -> str:
    """The zoo's code the run calls, each piece under a comment naming the file it comes from, then the English
    texts and stand-ins for the zoo's translations."""
    parts, origin = [], None
    for definition in code.definitions:
        text = definition.text
        if definition.origin != origin:
            text = f"# {definition.origin}\n{text}"
            origin = definition.origin
        parts.append(text)
    if code.stand_ins():
        messages = "\n".join(f"    {key!r}: {text!r}," for key, text in code.english_texts().items())
        parts.append(f"# zoo/i18n: the zoo's English texts this code can show, and the functions that show them\n"
                     f"MESSAGES = {{\n{messages}\n}}\n")
        parts += [ENGLISH_STAND_INS[name] for name in code.stand_ins()]
    return "\n\n".join(parts)


def _docstring(job: Callable, page: str, checkpoint: str | None, stem: str, weights_file: str | None,
               sidecars: list[str], arrays: list[str], code: InlinedSources) -> str:
    """What the script reproduces, from where and when, what it needs and how to run it, what it prints and saves,
    its sidecars."""
    commit = zoo_commit()
    start = f", starting from the shipped checkpoint {checkpoint!r}," if checkpoint else ""
    packages = code.packages()
    needs = (f"It needs Python with {', '.join(packages)}" if packages else "It needs only Python") + (
        ", and the zoo's package for `zoo.checkpoints`, which loads the shipped checkpoint by name and checks its "
        "hash: run it in a clone of the zoo" + (" at that commit" if commit else "")
        + f" (put {', '.join([f'{stem}.py', *sidecars])} in its root folder and run `python {stem}.py` there), or "
        f"with `PYTHONPATH=/path/to/the/zoo`." if checkpoint else f"; run `python {stem}.py`.")
    if code.uses_zoo_root:
        needs += (" The zoo's own files it reads when a data set is missing (assets/) are looked for under ZOO_ROOT, "
                  "the folder of the zoo's clone, if it runs in one.")
    paragraphs = [
        f"The run of {function_name(job)} from the Deep Learning Zoo's {page!r} page{start} with that page's "
        f"settings (at the bottom). Exported {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
        + (f" from the zoo at commit {commit}." if commit else "."),
        "The job and the zoo's code it calls are copied below from the files each comment names, so the script "
        "is the same training the app ran. " + needs + " Data sets are read where the zoo reads them (its README "
        "says where).",
        "It prints one line per event: the step and the numbers the page plots, as the job yields them, and the "
        "sentences a fine-tune ends with"
        + (f"; then it saves the weights (safetensors) beside this file as {weights_file}." if weights_file else "."),
    ]
    if sidecars:
        paragraphs.append(" ".join(
            [f"Sidecar {stem}.npz holds the settings that are arrays or long lists ({', '.join(arrays)})."]
            * bool(arrays)
            + [f"Sidecar {name} holds a text setting." for name in sidecars if name.endswith(".txt")])
            + (" Keep them beside this file." if len(sidecars) > 1 else " Keep it beside this file."))
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

    def __init__(self, stem: str, code: InlinedSources) -> None:
        self.stem = stem
        self.code = code
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
            fields = ", ".join(f"{f.name}={self.expression(getattr(value, f.name), f'{path}.{f.name}')}"
                               for f in dataclasses.fields(value) if f.init)
            return f"{self.code.name_of(cls)}({fields})"
        raise NotExportable(t("export.setting_in_app", setting=repr(path), kind=type(value).__name__))

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


_ZOO_ROOT = """\
ZOO_ROOT = HERE  # the zoo's clone, when the script runs in its root folder: where the zoo's own files are
"""

_SAVE = """\
    if isinstance(result, bytes):
        (HERE / "{weights_file}").write_bytes(result)
        print(f"Saved the weights to {{HERE / '{weights_file}'}}")
    else:
        print(f"The job returned a {{type(result).__name__}}, which this script does not save.")
"""

_NOT_WEIGHTS = """\
    print(f"The job returned a {type(result).__name__}, which this script does not save.")
"""

_SCRIPT = '''\
"""{docstring}
"""
from __future__ import annotations

{imports}

HERE = Path(__file__).resolve().parent
{zoo_root}{sidecar}

{copied}

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
        for sentence in [event.get("summary"), *event.get("warnings", [])]:  # what a fine-tune says at its end
            if isinstance(sentence, str):
                print(sentence, flush=True)
{save}

if __name__ == "__main__":
    main()
'''
