"""The zoo's code a function needs, copied into one piece of Python that imports only outside packages.

An exported run (`zoo.export`) must read as PyTorch: its job and every function, class and constant of
`zoo` and `models` the job reaches are copied here, each under one name, in an order where each comes after
what it needs. Outside packages (torch, numpy, the standard library) stay imports, as does `zoo.checkpoints`,
which loads a shipped checkpoint by name. The zoo's texts come in English through three small stand-ins for
`zoo.i18n` (`t`, `count`, `number`), with only the catalogue entries the copied code can ask for."""
from __future__ import annotations

import ast
import builtins
import dataclasses
import importlib.util
import inspect
import re
import sys
import types
from functools import cache
from pathlib import Path
from typing import Any

from zoo import statement_names
from zoo.i18n import catalogue
from zoo.statement_names import Annotation, Span, StatementNames

OWN_PACKAGES = ("zoo", "models")
"""the packages whose code is copied rather than imported"""
KEPT_MODULES = {"zoo.checkpoints"}
"""the zoo's modules a script still imports: loading a shipped checkpoint by name needs the zoo's files"""
I18N = "zoo.i18n"
ROOT = Path(__file__).resolve().parents[1]


class NotInlinable(ValueError):
    """The code reaches something that cannot be copied (a module used as a value, a name made at run time)."""


class _WouldCopy(Exception):
    """An annotation names something of the zoo that the script does not copy."""


@dataclasses.dataclass(frozen=True)
class Definition:
    """One copied top-level statement: the names it defines in the script, where it came from, its text."""
    names: tuple[str, ...]
    origin: str
    text: str


@dataclasses.dataclass(frozen=True)
class _Module:
    """A module of the zoo, parsed: its source as bytes (AST offsets count bytes) and what binds each name."""
    name: str
    path: str
    source: bytes
    line_starts: tuple[int, ...]
    bindings: dict[str, ast.stmt]
    documented: dict[int, ast.Expr]     # the line of a top-level assignment -> the string documenting it
    is_package: bool


@dataclasses.dataclass(frozen=True)
class _ModuleAlias:
    """A name that stands for a module of the zoo: only its attributes are copied."""
    module: str


@dataclasses.dataclass(frozen=True)
class _Fixed:
    """A name the script has as it is: a builtin, an i18n stand-in, ZOO_ROOT."""
    name: str


@dataclasses.dataclass(frozen=True)
class _Import:
    """An outside thing the script imports: `what` tells it apart, `line` imports it as `preferred`."""
    what: tuple
    preferred: str
    line: str
    renamable: bool = True


@dataclasses.dataclass(frozen=True)
class _Copied:
    """A name a copied statement of the zoo defines."""
    module: str
    name: str


_Target = _ModuleAlias | _Fixed | _Import | _Copied


@dataclasses.dataclass
class _Copy:
    """A statement to copy, with the spans of its text that name something of the script's."""
    parsed: _Module
    statement: ast.stmt
    own: list[str]
    references: list[tuple[Span, _Target]]
    text: str | None = None            # its text, for one written whole (a path from ZOO_ROOT)
    annotations: tuple[Annotation, ...] = ()
    drops: list[Annotation] = dataclasses.field(default_factory=list)  # annotations the script leaves out


class InlinedSources:
    """Collects copies of the zoo's code reached from the objects given to `name_of`, and the imports they need;
    `finish()` names everything once (no copied name hides a local of the code that uses it) and writes it out."""

    def __init__(self, reserved: set[str] | frozenset[str] = frozenset()) -> None:
        self._reserved = set(reserved) | {"annotations"}
        self._imports: dict[tuple, _Import] = {}
        self._fixed_imports: set[tuple] = set()     # the exporter's own, named as they are
        self._used_imports: set[tuple] = set()
        self._copies: list[_Copy] = []
        self._targets: dict[tuple[str, str], _Target] = {}
        self._locals: dict[_Target, set[str]] = {}  # what a copied name may not be: locals of code that uses it
        self._tokens: list[_Target] = []
        self._texts: set[str] = set()                # string constants of the copied code
        self._prefixes: set[str] = set()             # the starts of its f-strings that may be keys
        self._stand_ins: set[str] = set()
        self._inner_imports: set[str] = set()        # the top packages copied functions import inside them
        self._names: dict[_Target, str] = {}
        self._copying = True                         # False while annotations are named: they copy nothing
        self.definitions: list[Definition] = []
        self.uses_zoo_root = False
        """whether the copied code reads a file of the zoo's own (assets/), found from ZOO_ROOT"""

    def name_of(self, thing: Any) -> str:
        """A token for the name under which the script has `thing` (a top-level function or class of the zoo, or
        an outside one it imports); `named` turns tokens into names once `finish` has run."""
        module, name = thing.__module__, thing.__qualname__
        if "." in name or "<" in name:
            raise NotInlinable(f"{module}.{name} is not defined at the top of its module")
        if not _own(module) or module in KEPT_MODULES:
            target = self._import(_Import(("from", module, name), name, f"from {module} import {name}"))
        else:
            target = self._resolve(module, name)
        if isinstance(target, _ModuleAlias):
            raise NotInlinable(f"{module}.{name} is a module")
        self._tokens.append(target)
        return f"\0{len(self._tokens) - 1}\0"

    def named(self, text: str) -> str:
        """`text` with the tokens of `name_of` replaced by the script's names."""
        return re.sub("\0(\\d+)\0", lambda m: self._names[self._tokens[int(m.group(1))]], text)

    def import_from(self, module: str, name: str, used: bool = True) -> str:
        """Have the script import `name` from `module` under that very name (the exporter's own imports, taken
        before any copied code's); one not `used` is written only if copied code uses it too."""
        return self._fixed(_Import(("from", module, name), name, f"from {module} import {name}"), used)

    def import_module(self, module: str, alias: str, used: bool = True) -> str:
        """Have the script `import module as alias` (as `import_from`)."""
        return self._fixed(_Import(("import", module), alias, f"import {module} as {alias}"), used)

    def _fixed(self, target: _Import, used: bool) -> str:
        if target.preferred in self._reserved:
            raise NotInlinable(f"the script already has a {target.preferred!r}")
        self._imports[target.what] = target
        self._fixed_imports.add(target.what)
        self._names[target] = target.preferred
        if used:
            self._used_imports.add(target.what)
        return target.preferred

    def finish(self) -> None:
        """Name every import and copied definition, then write the definitions out (`definitions`)."""
        for copy in self._copies:
            self._annotate(copy)
        taken = set(self._reserved) | set(self._names.values()) | self._stand_ins
        if self.uses_zoo_root:
            taken.add("ZOO_ROOT")
        for name in self._stand_ins:
            if name in self._locals.get(_Fixed(name), set()):
                raise NotInlinable(f"copied code has a local {name!r} beside the zoo's text function {name!r}")
        for what in self._used_imports - self._fixed_imports:
            target = self._imports[what]
            self._names[target] = self._choose(target.preferred, target, taken, target.what[1], target.renamable)
        for copy in self._copies:
            for name in copy.own:
                target = _Copied(copy.parsed.name, name)
                self._names[target] = self._choose(name, target, taken, copy.parsed.name.rpartition(".")[2])
        self.definitions = [self._written(copy) for copy in self._copies]

    def _choose(self, name: str, target: _Target, taken: set[str], module: str, renamable: bool = True) -> str:
        """`name`, or, when the script already uses it or code that uses it has a local of that name, the name
        prefixed with its module's."""
        avoid = taken | self._locals.get(target, set())
        chosen, n = name, 2
        if chosen in avoid:
            if not renamable:
                raise NotInlinable(f"two things of the script would be called {name!r}")
            stem = f"{'_' if name.startswith('_') else ''}{module.rpartition('.')[2]}_{name.lstrip('_')}"
            chosen = stem
            while chosen in avoid:
                chosen, n = f"{stem}_{n}", n + 1
        taken.add(chosen)
        return chosen

    def import_lines(self) -> list[str]:
        lines = []
        for what in self._imports:
            if what in self._used_imports:
                target = self._imports[what]
                name = self._names[target]
                lines.append(target.line if name == target.preferred else f"{target.line.partition(' as ')[0]} as {name}")
        return lines

    def english_texts(self) -> dict[str, str]:
        """The catalogue's English texts the copied code can ask `t` or `count` for: keys it writes out, and every
        key under a prefix it writes (an f-string's start, a plural's key)."""
        def asked(key: str) -> bool:
            parts = key.split(".")
            return (any(".".join(parts[:n]) in self._texts for n in range(1, len(parts) + 1))
                    or any(key.startswith(prefix) for prefix in self._prefixes))
        return {key: entry["en"] for key, entry in sorted(catalogue().items()) if asked(key)}

    def packages(self) -> list[str]:
        """The outside packages the script imports, at its top or inside copied functions (not the standard
        library's, nor the zoo)."""
        tops = {what[1].split(".")[0] for what in self._used_imports} | self._inner_imports
        return sorted(tops - set(sys.stdlib_module_names) - set(OWN_PACKAGES))

    def stand_ins(self) -> list[str]:
        """The English stand-ins for `zoo.i18n` the copied code calls."""
        return sorted(self._stand_ins)

    # resolving names

    def _resolve(self, module: str, name: str) -> _Target:
        """What `name` at the top of `module` is in the script: a copy, an import, a builtin, or a module of the
        zoo whose attributes are used; copying what it needs the first time."""
        key = (module, name)
        if key in self._targets:
            return self._targets[key]
        if module == I18N:
            return self._stand_in(name)
        parsed = _parse(module)
        statement = parsed.bindings.get(name)
        if statement is None:
            if hasattr(builtins, name):
                return _Fixed(name)
            if _is_module(module, name):  # a submodule, as `package.module`
                return self._remember(key, _ModuleAlias(f"{module}.{name}"))
            raise NotInlinable(f"{module} has no top-level {name!r} to copy")
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return self._remember(key, self._imported(parsed, statement, name))
        if not self._copying:
            raise _WouldCopy
        self._copy(parsed, statement)
        return self._targets[key]

    def _remember(self, key: tuple[str, str], found: _Target) -> _Target:
        self._targets[key] = found
        return found

    def _imported(self, parsed: _Module, statement: ast.Import | ast.ImportFrom, name: str) -> _Target:
        """What an import binds `name` to: a copy of the zoo's object, a module of the zoo, or an import line."""
        alias = next(a for a in statement.names if (a.asname or a.name.split(".")[0]) == name)
        if isinstance(statement, ast.Import):
            target = alias.name if alias.asname else name
            if _own(target) and target not in KEPT_MODULES:
                return _ModuleAlias(target)
            line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
            return self._import(_Import(("import", target), name, line, renamable=bool(alias.asname)))
        package = parsed.name if parsed.is_package else parsed.name.rpartition(".")[0]
        source = importlib.util.resolve_name("." * statement.level + (statement.module or ""), package)
        if source == "__future__":
            return _Fixed(name)
        submodule = f"{source}.{alias.name}"
        is_module = _is_module(source, alias.name)
        if _own(source) and not (is_module and submodule in KEPT_MODULES) and source not in KEPT_MODULES:
            return _ModuleAlias(submodule) if is_module else self._resolve(source, alias.name)
        line = f"from {source} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        return self._import(_Import(("from", source, alias.name), name, line))

    def _import(self, target: _Import) -> _Import:
        """An outside thing as the script imports it, the same for every module that imports it."""
        known = self._imports.setdefault(target.what, target)
        self._used_imports.add(target.what)
        return known

    def _stand_in(self, name: str) -> _Fixed:
        if name not in ENGLISH_STAND_INS:
            raise NotInlinable(f"zoo.i18n.{name} has no English stand-in")
        if name == "count":
            self._stand_in("t")
        if name in self._reserved:
            raise NotInlinable(f"the script already has a {name!r}")
        self._stand_ins.add(name)
        return _Fixed(name)

    # copying statements

    def _copy(self, parsed: _Module, statement: ast.stmt) -> None:
        """Take a top-level definition or assignment of `parsed` to copy, after everything it needs."""
        own = statement_names.bound_at_top(statement)
        for name in own:
            self._targets[(parsed.name, name)] = _Copied(parsed.name, name)
        analysis = _names(parsed.name, statement.lineno)
        if any(module.startswith(".") or _own(module) for module in analysis.inner_imports):
            raise NotInlinable(f"{parsed.name}.{own[0]} imports the zoo's code inside it")
        self._inner_imports |= {module.split(".")[0] for module in analysis.inner_imports}
        if analysis.uses_file:
            self._copies.append(self._zoo_path(parsed, statement, own))
            return
        references = []
        for name, span, chain in analysis.references:
            span, target = self._followed(parsed.name, name, span, chain)
            if isinstance(target, _ModuleAlias):
                raise NotInlinable(f"{parsed.name} uses the module {target.module} as a value")
            if isinstance(target, _Fixed) and target.name == name:
                continue
            self._locals.setdefault(target, set()).update(analysis.locals)
            references.append((span, target))
        self._texts |= analysis.texts
        self._prefixes |= analysis.prefixes
        self._copies.append(_Copy(parsed, statement, own, references, annotations=analysis.annotations))

    def _followed(self, module: str, name: str, span: Span, chain: tuple[tuple[str, Span], ...]
                  ) -> tuple[Span, _Target]:
        """A global name and the attributes read from it while it names a module of the zoo: the span that the
        script's name for the thing reached replaces, and that thing."""
        target = self._resolve(module, name)
        for attribute, attribute_span in chain:
            if not isinstance(target, _ModuleAlias):
                break
            target = self._resolve(target.module, attribute)
            span = attribute_span
        return span, target

    def _annotate(self, copy: _Copy) -> None:
        """Name in a copy's annotations what the script has anyway (imports them from outside packages). An
        annotation naming something of the zoo the script does not copy (a model class the checkpoint brings) is
        left out, where it can go: never evaluated, it would still read as an undefined name to a linter."""
        self._copying = False
        try:
            for annotation in copy.annotations:
                used_before, named, undefined = set(self._used_imports), [], False
                for name, span, chain in annotation.references:
                    try:
                        named.append(self._followed(copy.parsed.name, name, span, chain))
                    except (_WouldCopy, NotInlinable):
                        undefined = True
                if undefined and annotation.drop is not None:
                    self._used_imports = used_before  # nothing is imported for an annotation left out
                    copy.drops.append(annotation)
                    continue
                for span, target in named:
                    if isinstance(target, _Import):
                        self._used_imports.add(target.what)  # resolved before, perhaps by one left out
                    if not isinstance(target, (_ModuleAlias, _Fixed)):
                        copy.references.append((span, target))
        finally:
            self._copying = True

    def _zoo_path(self, parsed: _Module, statement: ast.stmt, own: list[str]) -> _Copy:
        """A constant that finds a file of the zoo from its module's `__file__`, written from ZOO_ROOT instead."""
        value = getattr(sys.modules[parsed.name], own[0], None)
        if not isinstance(statement, ast.Assign) or len(own) != 1 or not isinstance(value, Path) \
                or not value.is_relative_to(ROOT):
            raise NotInlinable(f"{parsed.name} uses __file__ in {', '.join(own)}")
        self.uses_zoo_root = True
        return _Copy(parsed, statement, own, [], text=f'ZOO_ROOT / "{value.relative_to(ROOT).as_posix()}"')

    def _written(self, copy: _Copy) -> Definition:
        """A copied statement's text, its global names and its own name(s) as the script calls them."""
        parsed, statement = copy.parsed, copy.statement
        names = {name: self._names[_Copied(parsed.name, name)] for name in copy.own}
        if copy.text is not None:
            return Definition(tuple(names.values()), parsed.path, f"{names[copy.own[0]]} = {copy.text}\n")
        first = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", []))])
        documented = parsed.documented.get(statement.lineno)
        last = documented.end_lineno if documented is not None else statement.end_lineno
        start, end = parsed.line_starts[first - 1], parsed.line_starts[last]
        text = parsed.source[start:end]
        edits = [(span, self._names.get(target, getattr(target, "name", "")).encode())
                 for span, target in copy.references] + [(dropped.drop, dropped) for dropped in copy.drops]
        for (line, column, end_line, end_column), replacement in sorted(edits, key=lambda e: e[0], reverse=True):
            a = parsed.line_starts[line - 1] + column - start
            b = parsed.line_starts[end_line - 1] + end_column - start
            if isinstance(replacement, Annotation):
                text = _without_annotation(text, a, b, replacement.of)
            else:
                text = text[:a] + replacement + text[b:]
        text = _renamed_definition(text.decode(), statement, names)
        return Definition(tuple(names.values()), parsed.path, text.rstrip() + "\n")


def _without_annotation(text: bytes, a: int, b: int, of: str) -> bytes:
    """`text` without the annotation at text[a:b]: `: T` of an argument (`x: T = 1` becomes `x=1`) or a variable,
    or the `T` of a return with its arrow."""
    if of == "return":
        a = len(text[:a].rstrip().removesuffix(b"->").rstrip())
    rest = text[b:]
    if of == "argument" and rest.lstrip().startswith(b"="):
        rest = b"=" + rest.lstrip()[1:].lstrip()
    return text[:a] + rest


ENGLISH_STAND_INS = {
    "t": '''\
def t(key: str, **values) -> str:
    """The zoo's English text under `key` (the app speaks its reader's language; a script speaks English)."""
    return MESSAGES[key].format(**values)
''',
    "count": '''\
def count(key: str, n: int, **values) -> str:
    """`n` of something with its noun in English's singular or plural (the zoo's `i18n.count`)."""
    return t(f"{key}.{'one' if n == 1 else 'many'}", n=n, **values)
''',
    "number": '''\
def number(value, spec: str = ",") -> str:
    """A number as English writes it (the zoo's `i18n.number`)."""
    return format(value, spec)
''',
}
"""the zoo's i18n functions as the script has them: English only, from the texts in its MESSAGES"""


@cache
def _names(module: str, line: int) -> StatementNames:
    """The names of the top-level statement of `module` at `line`, read once per process."""
    return statement_names.read(next(s for s in set(_parse(module).bindings.values()) if s.lineno == line))


def _is_module(package: str, name: str) -> bool:
    """Whether `package.name` is a module (a submodule of a package), importing it if it is."""
    if isinstance(getattr(importlib.import_module(package), name, None), types.ModuleType):
        return True
    if not hasattr(sys.modules[package], "__path__"):
        return False
    try:
        importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError:
        return False
    return True


def _own(module: str) -> bool:
    return module.split(".")[0] in OWN_PACKAGES


@cache
def _parse(module: str) -> _Module:
    imported = sys.modules.get(module) or importlib.import_module(module)
    path = Path(inspect.getsourcefile(imported)).resolve()
    source = path.read_bytes()
    starts, at = [0], 0
    for line in source.splitlines(keepends=True):
        at += len(line)
        starts.append(at)
    tree = ast.parse(source)
    bindings: dict[str, ast.stmt] = {}
    for statement in statement_names.top_level(tree.body):
        for name in statement_names.bound_at_top(statement):
            bindings[name] = statement
    documented = {this.lineno: after for this, after in zip(tree.body, tree.body[1:])
                  if isinstance(this, (ast.Assign, ast.AnnAssign)) and isinstance(after, ast.Expr)
                  and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)}
    return _Module(module, str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path), source,
                   tuple(starts), bindings, documented, path.name == "__init__.py")


def _renamed_definition(text: str, statement: ast.stmt, names: dict[str, str]) -> str:
    """The copied text with a def's or class's own name, or an assignment's targets, under their script names."""
    changed = {old: new for old, new in names.items() if old != new}
    if not changed:
        return text
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        old = statement.name
        return re.sub(rf"^((?:async\s+)?(?:def|class)\s+){re.escape(old)}\b", rf"\g<1>{changed[old]}", text,
                      count=1, flags=re.MULTILINE)
    for old, new in changed.items():
        text = re.sub(rf"^{re.escape(old)}\b", new, text, count=1, flags=re.MULTILINE)
    return text
