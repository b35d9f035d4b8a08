"""zoo.statement_names: which names a top-level statement reads from its module, and which it binds itself."""
import ast

from zoo.statement_names import bound_at_top, read, top_level

SOURCE = '''
def job(steps: int, device: Device = DEFAULT) -> Iterator[dict]:
    """Uses globals, locals of every kind, a module's attributes and a text key."""
    model = load(NAME)
    total = [step * SCALE for step in range(steps)]
    best = max(total, key=lambda value: value - OFFSET)

    class Inner:
        shift = SHIFT
        def method(self):
            return shift_of(self)

    import gensim
    yield t("jobs.done", best=best), fashion_mnist.load("train"), t(f"jobs.stopped_early.{device}")
'''


def test_a_function_reads_its_globals_not_its_locals_and_binds_its_locals():
    statement = top_level(ast.parse(SOURCE).body)[0]
    names = read(statement)
    assert [name for name, _, _ in names.references] == ["DEFAULT", "load", "NAME", "SCALE", "range", "max",
                                                         "OFFSET", "SHIFT", "shift_of", "t", "fashion_mnist", "t"]
    module_use = next(r for r in names.references if r[0] == "fashion_mnist")
    assert [attribute for attribute, _ in module_use[2]] == ["load"]
    assert {name for a in names.annotations for name, _, _ in a.references} == {"int", "Device", "Iterator", "dict"}
    assert {"model", "total", "step", "best", "value", "Inner", "gensim", "steps", "device"} <= names.locals
    assert "jobs.done" in names.texts and names.prefixes == {"jobs.stopped_early."}
    assert names.inner_imports == {"gensim"} and not names.uses_file
    assert bound_at_top(statement) == ["job"]


def test_a_span_covers_the_name_in_the_source_as_bytes():
    source = 'X = "é" + VALUE\n'
    names = read(ast.parse(source).body[0])
    [(name, (line, start, end_line, end), _)] = names.references
    assert name == "VALUE" and source.encode().splitlines()[line - 1][start:end] == b"VALUE"


def test_an_annotation_knows_the_text_that_drops_it_except_a_class_fields():
    source = "def f(model: Model, skips: Skips = True) -> Model:\n    return model\n_clock: Clock | None = None\n" \
             "class Settings:\n    kind: Kind = 'gcn'\n"
    lines = source.encode().splitlines()
    annotations = [a for statement in ast.parse(source).body for a in read(statement).annotations]
    dropped = {a.of: [] for a in annotations}
    for a in annotations:
        line, start, end_line, end = a.drop or (1, 0, 1, 0)
        dropped[a.of].append(lines[line - 1][start:end] if a.drop and line == end_line else None)
    assert dropped == {"argument": [b": Model", b": Skips"], "return": [b"Model"],
                       "variable": [b": Clock | None", None]}  # a class's field keeps its annotation
