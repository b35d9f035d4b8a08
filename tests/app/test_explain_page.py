"""The Explain page through the real entry point: every classifier, a gallery image, an upload and a bad one,
the methods' settings and the attack's epsilon."""
import pytest

from tests.app.conftest import chart, open_page
from zoo.explain import classifiers

PAGE = "pages/explain.py"
CHARTS = {"explain_seen", "explain_probs", "explain_maps", "explain_deletion", "explain_insertion",
          "explain_randomised", "explain_attacked", "explain_perturbation"}


def _drawn(at) -> set[str]:
    return {element.key for element in at.get("plotly_chart")}


def _costs(at) -> dict[str, tuple[int, int]]:
    """The cost table: images forward and backward per method."""
    table = at.dataframe[0].value
    return {row["method"]: (row["images forward"], row["images backward"]) for _, row in table.iterrows()}


def test_a_gallery_garment_is_explained_measured_and_attacked():
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert CHARTS <= _drawn(at)
    assert " · " in at.subheader[0].value
    assert len(_costs(at)) == 7 and _costs(at)["Occlusion"] == (13 * 13 + 1, 0)
    assert any("is the most faithful" in m.value for m in at.markdown)
    assert any("**Integrated gradients, black**: the map sums to" in c.value for c in at.caption)


@pytest.mark.parametrize("name", sorted(classifiers.image_classifiers()))
def test_every_image_classifier_of_the_zoo_can_be_explained(name):
    at = open_page(PAGE)
    at.selectbox(key="explain_model").set_value(name).run()
    assert not at.exception and not at.error
    assert CHARTS <= _drawn(at)
    methods = set(_costs(at))
    assert ("Grad-CAM" in methods) == (name != "mlp-fashion")  # the MLP has no feature maps
    assert any("test accuracy" in c.value for c in at.caption)


def test_the_methods_settings_change_what_is_computed():
    at = open_page(PAGE)
    at.slider(key="explain_patch").set_value(8)
    at.select_slider(key="explain_ig_steps").set_value(16)
    at.radio(key="explain_ig_baseline").set_value("blurred").run()
    assert not at.exception and not at.error
    costs = _costs(at)
    assert costs["Occlusion"] == (6 * 6 + 1, 0) and costs["Integrated gradients, blurred"] == (18, 16)
    assert "Integrated gradients, black" not in costs


def test_an_upload_is_explained_and_a_bad_one_is_a_clear_message(garment_png):
    at = open_page(PAGE)
    at.radio(key="explain_source").set_value("Upload").run()
    at.file_uploader[0].upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert CHARTS <= _drawn(at)
    at.file_uploader[0].upload("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png").run()
    assert not at.exception
    assert at.error and "broken.png" in at.error[0].value
    assert not _drawn(at) & CHARTS


def test_epsilon_bounds_the_attack():
    at = open_page(PAGE)
    at.slider(key="explain_epsilon").set_value(0.01).run()
    assert not at.exception
    small = chart(at, "explain_perturbation").proto.spec
    held = at.subheader[-1].value
    at.slider(key="explain_epsilon").set_value(0.3).run()
    assert not at.exception and not at.error
    assert chart(at, "explain_perturbation").proto.spec != small
    assert at.subheader[-1].value != held
    assert any("the model says" in m.value for m in at.markdown)  # 0.3 flips it
