"""The MLP page through the real entry point: the playground trains live and takes a CSV; the
pretrained MLP predicts next to the CNN on the gallery and on uploads."""
from tests.app.conftest import chart, open_page, run_until, step
from zoo import checkpoints
from zoo.data import fashion_mnist

PAGE = "pages/mlp.py"



def _predictions(at) -> list[str]:
    return [s.value for s in at.subheader if s.value.startswith(("MLP:", "CNN:"))]


def test_page_loads_as_a_lesson():
    at = open_page(PAGE)
    assert at.title[0].value.startswith("Multilayer perceptron")
    assert [h.value for h in at.header] == ["1. Playground: a network you build", "2. A deep MLP on Fashion-MNIST",
                                            "3. Fine-tune it"]
    assert not at.error
    assert step(at) == 0 and chart(at, "pg_boundary") and chart(at, "pg_units")
    assert {"mlp_seen", "mlp_probs", "mlp_cnn_probs", "mlp_saliency", "mlp_templates", "mlp_activations_0"} <= {
        chart.key for chart in at.get("plotly_chart")}


def test_mlp_predicts_a_gallery_example_next_to_the_cnn():
    at = open_page(PAGE)
    labels = fashion_mnist.load_sample().labels
    index = int((labels == 1).nonzero()[0])  # a trouser: the easiest class
    at.selectbox(key="mlp_gallery").set_value(index).run()
    assert not at.exception
    assert _predictions(at)[0].startswith("MLP: Trouser")
    assert _predictions(at)[1].startswith("CNN: Trouser")


def test_upload_predicts_and_bad_upload_shows_an_error(garment_png):
    at = open_page(PAGE)
    at.radio(key="mlp_source").set_value("Upload").run()
    at.file_uploader(key="mlp_upload").upload("shirt.png", garment_png, "image/png").run()
    assert not at.exception and not at.error
    assert len(_predictions(at)) == 2 and all(" · " in p for p in _predictions(at))
    at.file_uploader(key="mlp_upload").upload("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png").run()
    assert not at.exception
    assert at.error and "broken.png" in at.error[0].value
    assert not _predictions(at)


def test_playground_steps_trains_live_pauses_and_resets():
    at = open_page(PAGE)
    at.selectbox(key="pg_data").set_value("Circles").run()
    untrained = chart(at, "pg_boundary").proto.spec
    at.button(key="pg_step").click().run()
    assert not at.exception and step(at) == 1
    stepped = chart(at, "pg_boundary").proto.spec
    assert stepped != untrained
    at.button(key="pg_start").click().run()
    assert not at.exception and not at.error
    assert at.button(key="pg_start").disabled and not at.button(key="pg_pause").disabled
    run_until(at, lambda at: step(at) > 50, seconds=90, every=0.3)  # as the live fragment polls
    assert chart(at, "pg_boundary").proto.spec != stepped and chart(at, "pg_losses")
    at.button(key="pg_pause").click().run()
    paused = step(at)
    assert not at.button(key="pg_start").disabled and at.button(key="pg_pause").disabled
    at.run()
    assert step(at) == paused  # it stays paused
    at.button(key="pg_reset").click().run()
    assert step(at) == 0 and not at.exception


def test_changing_the_network_starts_afresh_and_a_bad_one_is_explained():
    at = open_page(PAGE)
    at.button(key="pg_step").click().run()
    assert step(at) == 1
    at.text_input(key="pg_hidden").input("4").run()
    assert step(at) == 0 and not at.error
    at.text_input(key="pg_hidden").input("4, many").run()
    assert at.error and "whole numbers" in at.error[0].value and not at.exception


def test_csv_upload_trains_and_a_bad_csv_shows_an_error():
    at = open_page(PAGE)
    at.selectbox(key="pg_data").set_value("My CSV").run()
    rows = "x,y,label\n" + "".join(f"{i % 7},{i % 5},{'a' if i % 7 > 3 else 'b'}\n" for i in range(60))
    at.file_uploader(key="pg_csv").upload("mine.csv", rows.encode(), "text/csv").run()
    assert not at.exception and not at.error
    at.button(key="pg_step").click().run()
    assert step(at) == 1
    at.file_uploader(key="pg_csv").upload("bad.csv", b"x,y,label\n1,2,a\n3,oops,b\n5,6,a\n7,8,b\n", "text/csv").run()
    assert not at.exception
    assert at.error and "bad.csv" in at.error[0].value and "'oops'" in at.error[0].value


def _percent(at, label: str) -> float:
    return float(next(m.value for m in at.metric if m.label == label).rstrip("%"))


def test_the_default_fine_tune_does_not_make_the_mlp_worse_and_says_which_images_measure_it():
    """Before its defaults were chosen, the page's default run took the MLP from 91.8% to 90.8% with no word."""
    at = open_page(PAGE)
    card = checkpoints.read_card("mlp-fashion")["metrics"]
    which = next(c.value for c in at.caption if c.value.startswith("Which images measure what"))
    assert f"{card['accuracy']:.2%} is on all 10,000" in which
    assert "other 9,000 give the accuracy before and after" in which
    at.button(key="mlp_ft_start").click().run()
    assert not at.exception and not at.error
    run_until(at, lambda at: any("finished" in s.value for s in at.success), seconds=180)
    assert [m.label for m in at.metric][-2:] == ["Held-out accuracy before", "after"]
    assert _percent(at, "after") >= _percent(at, "Held-out accuracy before")
    assert not at.warning
    assert any(c.value.startswith(("The weights kept", "No step did better")) for c in at.caption)
    assert chart(at, "mlp_ft_loss") and chart(at, "mlp_ft_validation_loss") and chart(at, "mlp_ft_accuracy")
    assert at.download_button(key="mlp_ft_download")
