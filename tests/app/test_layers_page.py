"""The "Inside the layers" page through the real entry point: the CNN's layers by default, a character model and
the DQN chosen instead, and the t-SNE maps."""
import json

import pytest

from tests.app.conftest import chart, open_page
from zoo.data import fashion_mnist

PAGE = "pages/layers.py"
pytestmark = pytest.mark.skipif(not fashion_mnist.is_installed(), reason="Fashion-MNIST is not installed")


def _table(at) -> list[dict]:
    (table,) = at.dataframe
    return table.value.to_dict("records")


def _map_titles(at) -> list[str]:
    return [a["text"] for a in json.loads(chart(at, "layers_maps").proto.spec)["layout"]["annotations"]]


def test_loads_the_cnn_with_its_layers_histograms_and_maps_in_depth_order():
    at = open_page(PAGE)
    assert not at.error
    assert [h.value for h in at.header] == ["1. The layers", "2. Weights and activations",
                                            "3. Classes separating with depth"]
    rows = _table(at)
    assert rows[0]["kind"] == "Conv2d + BatchNorm2d + ReLU" and rows[0]["dead %"] is not None
    assert any("Fashion-MNIST" in c.value and "coloured by their class" in c.value for c in at.caption)
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"layers_health", "layers_separation", "layers_maps"} <= keys and sum(k.startswith("layers_histogram_") for k in keys) == 2
    depths = [int(title.split(".")[0]) for title in _map_titles(at)]
    assert depths == sorted(depths) and depths[-1] == len(rows)


@pytest.mark.parametrize("name, kind", [("rnn-text", "Embedding"), ("dqn-cartpole", "Linear + ReLU")])
def test_switching_to_a_character_model_or_the_dqn(name, kind):
    at = open_page(PAGE)
    at.selectbox(key="layers_checkpoint").set_value(name).run()
    assert not at.exception and not at.error
    assert _table(at)[0]["kind"] == kind
    legend = {t.get("name") for t in json.loads(chart(at, "layers_maps").proto.spec)["data"]}
    assert legend == ({"push left", "push right"} if name == "dqn-cartpole" else
                      {"lowercase letter", "capital letter", "space or line break", "punctuation or digit"})


def test_tsne_maps_the_chosen_layers():
    at = open_page(PAGE)
    last = at.multiselect(key="layers_maps_cnn-fashion").options[-1]
    at.multiselect(key="layers_maps_cnn-fashion").set_value([0, int(last.split(".")[0]) - 1]).run()
    at.radio(key="layers_method").set_value("t-SNE").run()
    assert not at.exception and not at.error
    titles = _map_titles(at)
    assert len(titles) == 2 and "variance" not in titles[0]  # t-SNE titles carry no PCA share
    spec = json.loads(chart(at, "layers_maps").proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "t-SNE 1"
