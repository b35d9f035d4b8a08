"""Every text box of the app has a budget: each `st.text_area` / `st.text_input` call in pages/ and zoo/ui/
passes `max_chars` (issue 20), read from the source with an AST walk, so a new page cannot forget it. Streamlit
cuts a longer value on the server too, so the budget holds even for a client that ignores the browser's limit."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT_BOXES = {"text_area", "text_input"}


def unbudgeted_text_boxes(root: Path = ROOT) -> list[str]:
    """'file:line: widget' for every Streamlit text box called without `max_chars`. `ui.text_input` is the
    app's own text input (zoo/ui/), which passes the budget itself."""
    missing = []
    for path in sorted((root / "pages").glob("*.py")) + sorted((root / "zoo" / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in TEXT_BOXES):
                continue
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "ui":
                continue
            if not any(keyword.arg == "max_chars" for keyword in node.keywords):
                missing.append(f"{path.relative_to(root).as_posix()}:{node.lineno}: {node.func.attr}")
    return missing


def test_every_text_box_has_max_chars():
    missing = unbudgeted_text_boxes()
    assert not missing, "text boxes without max_chars (every typed input needs a budget):\n" + "\n".join(missing)


def test_a_planted_box_without_a_budget_is_named(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "zoo" / "ui").mkdir(parents=True)
    (tmp_path / "zoo" / "ui" / "__init__.py").write_text('st.text_area("Text", max_chars=10)\n')
    (tmp_path / "pages" / "new.py").write_text('a, b = st.columns(2)\nword = b.text_input("Word")\n'
                                               'text, source = ui.text_input("new")\n'
                                               'st.sidebar.text_area("Notes", max_chars=99)\n')
    assert unbudgeted_text_boxes(tmp_path) == ["pages/new.py:2: text_input"]
