"""Which names a top-level statement of a module reads and binds, found in its syntax tree: what copying the
statement into another file (zoo.inline_sources) must resolve there, and the names it must not hide."""
from __future__ import annotations

import ast
import dataclasses

Span = tuple[int, int, int, int]
"""a node's place in its module: first line, first column, last line, end column (columns count UTF-8 bytes)"""
Reference = tuple[str, Span, tuple[tuple[str, Span], ...]]
"""a global name, its span, and the attributes read from it in a row with theirs (`fashion_mnist.load`)"""


@dataclasses.dataclass(frozen=True)
class Annotation:
    """One annotation: the global names in it, what it annotates ("argument", "return" or "variable") and the text
    that drops it (`: T` after an argument or a variable; `T` of a return, whose arrow goes with it), or None where
    it cannot go (a class's field)."""
    references: tuple[Reference, ...]
    of: str
    drop: Span | None


@dataclasses.dataclass(frozen=True)
class StatementNames:
    """The names of one top-level statement."""
    references: tuple[Reference, ...]     # the global names it reads (not its locals, not its annotations)
    annotations: tuple[Annotation, ...]   # its annotations and the names in each
    locals: frozenset[str]                # every name it binds inside (arguments, variables, nested defs)
    texts: frozenset[str]                 # its string constants
    prefixes: frozenset[str]              # the constant starts of its f-strings that hold a dot (key prefixes)
    inner_imports: frozenset[str]         # the modules it imports inside its functions (".x" for relative ones)
    uses_file: bool                       # whether it reads its module's `__file__`


def read(statement: ast.stmt) -> StatementNames:
    """The names of a top-level statement of a parsed module."""
    def span(node: ast.expr) -> Span:
        return node.lineno, node.col_offset, node.end_lineno, node.end_col_offset

    def described(found: list[tuple[ast.Name, list[ast.Attribute]]]) -> tuple[Reference, ...]:
        return tuple((node.id, span(node), tuple((a.attr, span(a)) for a in chain)) for node, chain in found)

    nodes = list(ast.walk(statement))
    return StatementNames(
        described(_global_references(statement)),
        tuple(Annotation(described(found), of, drop) for found, of, drop in _annotations(statement)),
        frozenset(_locals(statement)),
        frozenset(n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)),
        frozenset(str(n.values[0].value) for n in nodes if isinstance(n, ast.JoinedStr) and n.values
                  and isinstance(n.values[0], ast.Constant) and "." in str(n.values[0].value)),
        frozenset("." * getattr(n, "level", 0) + _imported_module(n) for n in nodes
                  if isinstance(n, (ast.Import, ast.ImportFrom))),
        any(isinstance(n, ast.Name) and n.id == "__file__" for n in nodes))


def top_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The module's top-level statements, looking into `if` and `try` bodies (not their fallbacks)."""
    found = []
    for statement in body:
        if isinstance(statement, ast.If):
            found += top_level(statement.body)
        elif isinstance(statement, ast.Try):
            found += top_level(statement.body)
        else:
            found.append(statement)
    return found


def bound_at_top(statement: ast.stmt) -> list[str]:
    """The names a top-level statement binds."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in statement.names]
    targets = statement.targets if isinstance(statement, ast.Assign) else (
        [statement.target] if isinstance(statement, (ast.AnnAssign, ast.AugAssign)) else [])
    return [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]


def _imported_module(node: ast.Import | ast.ImportFrom) -> str:
    return (node.module or "") if isinstance(node, ast.ImportFrom) else node.names[0].name


def _locals(statement: ast.stmt) -> set[str]:
    """Every name a statement binds anywhere inside it (its functions' arguments and variables): a name the
    script gives what this statement uses must not be one of them."""
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not statement:
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
    return names


def _global_references(statement: ast.stmt) -> list[tuple[ast.Name, list[ast.Attribute]]]:
    """The names in a top-level statement that its module's globals resolve (not locals, not annotations), each
    with the attributes read from it in a row (`fashion_mnist.load` -> the name and `.load`)."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(statement):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found = []

    def chain(name: ast.Name) -> list[ast.Attribute]:
        attributes, node = [], name
        while isinstance(parents.get(node), ast.Attribute) and parents[node].value is node:
            node = parents[node]
            attributes.append(node)
        return attributes

    def visit(node: ast.AST, scopes: list[tuple[set[str], bool]]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for expression in [*getattr(node, "decorator_list", []), *node.args.defaults,
                               *(d for d in node.args.kw_defaults if d is not None)]:
                visit(expression, scopes)
            arguments = node.args
            local = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                     *filter(None, [arguments.vararg, arguments.kwarg])]}
            body = node.body if isinstance(node.body, list) else [node.body]
            local |= _bound_in(body)
            inner = [s for s in scopes if not s[1]] + [(local, False)]
            for statement in body:
                visit(statement, inner)
            return
        if isinstance(node, ast.ClassDef):
            for expression in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
                visit(expression, scopes)
            inner = scopes + [(_bound_in(node.body), True)]
            for statement in node.body:
                visit(statement, inner)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            local = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            inner = scopes + [(local, False)]
            for child in ast.iter_child_nodes(node):
                visit(child, inner)
            return
        if isinstance(node, ast.AnnAssign):
            for child in filter(None, [node.target, node.value]):
                visit(child, scopes)
            return
        if isinstance(node, ast.arg):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if not any(node.id in names for names, _ in scopes):
                found.append((node, chain(node)))
            return
        for child in ast.iter_child_nodes(node):
            visit(child, scopes)

    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        visit(statement.value, [])
    else:
        visit(statement, [])
    return found


def _annotations(statement: ast.stmt) -> list[tuple[list[tuple[ast.Name, list[ast.Attribute]]], str, Span | None]]:
    """A statement's annotations (never evaluated in a script with postponed annotations, but named right so that
    a reader and a linter find them): for each, its global names with the attributes read from each in a row, what
    it annotates and the span that drops it."""
    found = []
    for node in ast.walk(statement):
        if isinstance(node, ast.arg) and node.annotation is not None:
            name_end = node.col_offset + len(node.arg.encode())
            found.append((node.annotation, "argument", (node.lineno, name_end, node.end_lineno, node.end_col_offset)))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            returns = node.returns
            found.append((returns, "return", (returns.lineno, returns.col_offset, returns.end_lineno,
                                              returns.end_col_offset)))
        elif isinstance(node, ast.AnnAssign):
            droppable = node is statement and node.value is not None  # a field of a class needs its annotation
            found.append((node.annotation, "variable", (node.target.end_lineno, node.target.end_col_offset,
                                                        node.annotation.end_lineno, node.annotation.end_col_offset)
                          if droppable else None))
    return [(_names_in(annotation), of, drop) for annotation, of, drop in found]


def _names_in(annotation: ast.expr) -> list[tuple[ast.Name, list[ast.Attribute]]]:
    parents = {child: parent for parent in ast.walk(annotation) for child in ast.iter_child_nodes(parent)}
    names = []
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            attributes, at = [], node
            while isinstance(parents.get(at), ast.Attribute):
                at = parents[at]
                attributes.append(at)
            names.append((node, attributes))
    return names


def _bound_in(body: list[ast.stmt]) -> set[str]:
    """The names a function's or class's body binds in its own scope (not in the scopes nested in it)."""
    bound, declared_global = set(), set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global.update(node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in body:
        visit(statement)
    return bound - declared_global
