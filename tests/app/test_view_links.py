"""Links that restore a view: a page opened with its view's parameters shows those values, a changed widget is
written back to the URL, a bad parameter leaves the default without a traceback, and on every page the URL a
view leaves behind opens that same view again."""
import ast
from pathlib import Path

import pytest

from tests.app.conftest import ROOT, open_page
from zoo import i18n
from zoo.data import fashion_mnist
from zoo.explain import classifiers

PAGES = sorted(Path(ROOT, "pages").glob("*.py"))
MOVED_WIDGETS = ("slider", "number_input")
"""the widgets the sweep moves by one step: they show or hide nothing else"""
SHOWN_WIDGETS = ("slider", "number_input", "select_slider", "selectbox", "radio", "text_input", "text_area")


STOPS_EARLY = {"transformer"}
"""pages whose default view ends in `st.stop()` (the Transformer's fine-tune waits for a text): the run that
restores a link is the one a one-off timer asks for a second later, which AppTest leaves to the test"""


def opened_with(page: str, params: dict[str, str | list[str]], language: str | None = None):
    """The app entered at home (in `language`, as a link's `?lang=` sets it), then `page` opened with these query
    parameters, as a link does."""
    at = open_page(language=language)
    at.query_params.update(params)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    if Path(page).stem in STOPS_EARLY:
        at.run()
        assert not at.exception, at.exception
    return at


def widget(at, key: str):
    return next(w for kind in SHOWN_WIDGETS for w in at.get(kind) if w.key == key)


def view_keys(page: Path) -> list[str]:
    """The keys a page declares as its view, read from its one `ui.view_in_url(...)` call."""
    calls = [node for node in ast.walk(ast.parse(page.read_text())) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "view_in_url"]
    assert len(calls) == 1, f"{page.name} declares its view {len(calls)} times"
    return [arg.value for arg in calls[0].args]


def gallery_label(index: int) -> str:
    labels = fashion_mnist.load_sample().labels
    return f"{index:02d}: {fashion_mnist.CLASSES[int(labels[index])]}"


def test_every_page_declares_its_view_once():
    """Home has no settings, so its link is its address; every other page keeps some in its URL."""
    declared = {page.stem: view_keys(page) for page in PAGES}
    assert len(declared) == 17 and declared.pop("home") == []
    assert all(declared.values())


def test_a_link_opens_the_cnn_page_on_its_example_and_layer():
    at = opened_with("pages/cnn.py", {"gallery": gallery_label(5), "layer": "3"})
    assert widget(at, "cnn_gallery").value == 5
    assert widget(at, "cnn_layer").value == 3
    assert at.query_params["gallery"] == gallery_label(5) and at.query_params["layer"] == "3"
    link = next(m.value for m in at.markdown if m.value.startswith("~~~text"))
    assert "layer=3" in link and "gallery=05%3A+Trouser" in link


def test_a_link_made_in_chinese_opens_in_chinese_with_its_choices():
    """A choice is written to the URL as its language shows it, so the link carries that language too."""
    labels = fashion_mnist.load_sample().labels
    example = i18n.t_for("zh", "ui.gallery.option", index=5, name=i18n.t_for("zh", f"fashion.class.{labels[5]}"))
    at = opened_with("pages/cnn.py", {"gallery": example, "layer": "3"}, language="zh")
    assert widget(at, "cnn_gallery").value == 5 and widget(at, "cnn_layer").value == 3
    assert at.query_params["lang"] == "zh" and at.title[0].value == i18n.t_for("zh", "cnn.title")


def test_a_changed_widget_is_written_to_the_url():
    at = open_page("pages/cnn.py")
    assert "layer" not in at.query_params  # the default is left out
    widget(at, "cnn_layer").set_value(2).run()
    assert not at.exception
    assert at.query_params["layer"] == "2"
    widget(at, "cnn_gallery").set_value(7).run()
    assert at.query_params["gallery"] == gallery_label(7) and at.query_params["layer"] == "2"
    widget(at, "cnn_layer").set_value(1).run()
    assert "layer" not in at.query_params


def test_a_link_opens_the_diffusion_page_on_its_noise_step_class_and_seed():
    at = opened_with("pages/diffusion.py", {"t": "100", "class": "Sneaker", "guidance": "3.5", "steps": "50",
                                            "seed": "42"})
    assert widget(at, "diff_t").value == 100
    assert widget(at, "diff_class").value == fashion_mnist.CLASSES.index("Sneaker")
    assert widget(at, "diff_guidance").value == 3.5
    assert widget(at, "diff_steps").value == 50
    assert widget(at, "diff_seed").value == 42


def test_a_link_opens_the_transformer_page_on_its_prompt_and_sampling():
    at = opened_with("pages/transformer.py", {"prompt": "To be, or not", "temperature": "1.2", "top_k": "5",
                                              "seed": "7"})
    assert widget(at, "transformer_prompt").value == "To be, or not"
    assert widget(at, "transformer_temperature").value == pytest.approx(1.2)
    assert widget(at, "transformer_top_k").value == 5
    assert widget(at, "transformer_seed").value == 7


def test_a_link_opens_the_gnn_page_on_a_block_model_and_a_network():
    """The block model's sliders appear only once the graph is chosen: they are restored one run later."""
    at = opened_with("pages/gnn.py", {"source": "Stochastic block model", "p_in": "0.5", "sbm_seed": "3",
                                      "kind": "GAT", "layers": "2", "epochs": "100"})
    assert widget(at, "gnn_source").value == "Stochastic block model"
    assert widget(at, "gnn_p_in").value == 0.5
    assert widget(at, "gnn_sbm_seed").value == 3
    assert widget(at, "gnn_kind").value == "GAT"
    assert widget(at, "gnn_layers").value == 2
    assert widget(at, "gnn_epochs").value == 100


def test_a_link_opens_the_explain_page_on_its_classifier_and_epsilon():
    names = classifiers.image_classifiers()
    name = next(n for n in names if n != "cnn-fashion")
    at = opened_with("pages/explain.py", {"model": f"{names[name]} · {name}", "gallery": gallery_label(3),
                                          "epsilon": "0.1"})
    assert widget(at, "explain_model").value == name
    assert widget(at, "explain_gallery").value == 3
    assert widget(at, "explain_epsilon").value == pytest.approx(0.1)


@pytest.mark.parametrize("params", [
    {"t": "5000", "class": "Unicorn", "guidance": "lots", "steps": "7", "seed": "-3", "source": "Webcam"},
    {"t": "1" * 10_000, "seed": "4" * 10_000},
    {**{f"p{i}": str(i) for i in range(500)}, "t": "100", "seed": "42"},
], ids=["out of range or unknown", "10,000 characters", "500 parameters"])
def test_bad_parameters_leave_the_defaults_without_a_traceback(params):
    at = opened_with("pages/diffusion.py", params)
    assert not at.exception
    assert widget(at, "diff_t").value == 250
    assert widget(at, "diff_class").value == 0
    assert widget(at, "diff_guidance").value == 2.0
    assert widget(at, "diff_steps").value == 25
    assert widget(at, "diff_seed").value == 0
    assert widget(at, "diff_source").value == "Gallery"
    assert not {"t", "class", "guidance", "steps", "seed", "source"} & set(at.query_params)


def _moved(w):
    """A slider's or number box's value one step along (back from its end)."""
    return w.value + w.step if w.max is None or w.value + w.step <= w.max else w.value - w.step


def _view(at, keys: set[str]) -> dict:
    return {w.key: w.value for kind in SHOWN_WIDGETS for w in at.get(kind) if w.key in keys}


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_the_url_a_view_leaves_opens_the_same_view(page):
    at = open_page(f"pages/{page.name}")
    keys = set(view_keys(page))
    for w in [w for kind in MOVED_WIDGETS for w in at.get(kind) if w.key in keys]:
        w.set_value(_moved(w))
    at.run()
    assert not at.exception, at.exception
    again = opened_with(f"pages/{page.name}", dict(at.query_params))
    assert _view(again, keys) == _view(at, keys)
    assert dict(again.query_params) == dict(at.query_params)
