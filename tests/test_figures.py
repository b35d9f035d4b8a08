"""Every chart reads on its own: `zoo.plots.check_readable` catches each broken rule, every figure
builder (zoo.plots and each models/<algo>/figures.py) follows the rules on realistic inputs, and so
does every chart the pages draw, fine-tune curves included (their jobs run in this process)."""
from __future__ import annotations

import importlib
import inspect
import io
import json
import time
import zipfile
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image, ImageDraw

from models.dqn.explore import Episode
from models.rnn import figures as rnn_figures
from models.transformer import figures as transformer_figures
from models.word2vec import figures as word2vec_figures
from models.word2vec.explore import WordMap
from zoo import jobs, plots
from zoo.data.series import TimeSeries

ALGORITHMS = ("autoencoder", "diffusion", "dqn", "gan", "gnn", "mlp", "rnn", "self_supervised", "transformer", "unet",
              "word2vec")
rng = np.random.default_rng(0)


def readable(figure: go.Figure) -> go.Figure:
    problems = plots.check_readable(figure)
    assert not problems, problems
    return figure


# ---- the rules catch what the issue found -----------------------------------------------------------------

def _line(x, y, name="series", **kwargs) -> go.Scatter:
    return go.Scatter(x=x, y=y, name=name, **kwargs)


def test_each_broken_rule_is_named():
    steps = list(range(0, 50, 5))
    good = go.Figure(_line(steps, np.linspace(2, 1, 10)), layout=dict(
        title="Loss", xaxis=dict(title="step", dtick=5, tickformat=",d"), yaxis=dict(title="loss (nats)")))
    assert plots.check_readable(good) == []

    broken = {
        "no title": good.update_layout(title=None),
        "axis y has no title": go.Figure(good).update_layout(title="Loss", yaxis_title=None),
        "looks like a variable name": go.Figure(good).update_layout(yaxis_title="loss").update_traces(name="loss_plain"),
        "not fixed to [0, 1]": go.Figure(_line(steps, [0.9] * 10), layout=dict(
            title="Accuracy", xaxis=dict(title="step", dtick=5), yaxis=dict(title="held-out accuracy"))),
        "fractional ticks": go.Figure(_line([0, 1, 2], [0.5, 0.4, 0.3]), layout=dict(
            title="Loss", xaxis=dict(title="step"), yaxis=dict(title="loss"))),
        "times apart in scale": go.Figure([_line(steps, np.linspace(260, 240, 10), "reconstruction"),
                                           _line(steps, np.linspace(2, 3, 10), "KL")], layout=dict(
            title="VAE", xaxis=dict(title="step", dtick=5), yaxis=dict(title="nats"))),
        "without square pixels (scaleanchor)": go.Figure(go.Heatmap(z=rng.random((28, 28))), layout=dict(
            title="An image", xaxis=dict(visible=False), yaxis=dict(visible=False))),
        "under 10": go.Figure(good).update_layout(title="Loss").update_xaxes(tickfont_size=9),
    }
    for expected, figure in broken.items():
        problems = plots.check_readable(figure)
        assert any(expected in p for p in problems), (expected, problems)


def test_check_reads_a_figure_as_the_browser_gets_it():
    """Streamlit sends `fig.to_json()`, where numpy arrays are base64 typed arrays: the check decodes them."""
    figure = go.Figure(_line(np.arange(3), np.array([0.5, 0.4, 0.3])), layout=dict(
        title="Loss", xaxis=dict(title="step"), yaxis=dict(title="loss")))
    assert any("fractional ticks" in p for p in plots.check_readable(json.loads(figure.to_json())))


# ---- the shared builders --------------------------------------------------------------------------------

def classifier_events(steps: int = 60) -> list[dict]:
    events = [{"step": 0, "accuracy": 0.918, "accuracy_before": 0.918}]
    events += [{"step": s, "loss": 0.5 / np.sqrt(s), "lr": 3e-4} for s in range(1, steps + 1)]
    return events + [{"step": steps, "accuracy": 0.921, "accuracy_after": 0.921}]


def vae_events() -> list[dict]:
    """As the page's default fine-tune reports them (beta 4): reconstruction ~240 nats, KL ~10."""
    return [{"step": s, "loss": 280 - s / 3 + 4 * (12 - s / 50), "reconstruction": 280 - s / 3, "kl": 12 - s / 50}
            for s in range(1, 101)]


SHARED = {
    "image": lambda: plots.image(rng.random((28, 28)), "What the model sees"),
    "overlay": lambda: plots.overlay(rng.random((28, 28)), rng.random((28, 28)), "Saliency"),
    "image_grid": lambda: plots.image_grid(rng.random((12, 14, 14)), title="Feature maps", titles=[f"map {i}" for i in range(12)], cols=6),
    "animation": lambda: plots.animation(rng.random((5, 28, 56)), [f"t = {t}" for t in range(5)], title="Denoising"),
    "drawing_canvas": lambda: plots.drawing_canvas(np.zeros((28, 28))),
    "probability_bars": lambda: plots.probability_bars(rng.dirichlet(np.ones(10)), [f"class {i}" for i in range(10)],
                                                       title="The likeliest classes", top=5),
    "confusion": lambda: plots.confusion(rng.integers(0, 100, (10, 10)), [f"class {i}" for i in range(10)],
                                         title="Confusion matrix"),
    "heatmap": lambda: plots.heatmap(rng.random((8, 6)), [10, 20, 30, 40, 50, 60], range(1, 9), title="Gradients",
                                     x_title="training step", y_title="layer", colorbar="log10"),
    "curves": lambda: plots.curves(vae_events(), ["reconstruction", "kl"], title="The VAE's loss"),
    "lines": lambda: plots.lines([1, 2, 4, 8], {"GCN": [0.6, 0.7, 0.8, 0.85], "MLP": [0.3, 0.4, 0.5, 0.6]},
                                 title="Accuracy by labels", x_title="labelled nodes per class",
                                 y_title="accuracy, unlabelled nodes", kind=plots.PROBABILITY),
    "coloured_text": lambda: plots.coloured_text("And God said, Let there be light:\nand there was light. " * 2,
                                                 rng.normal(0, 0.3, 112), title="What each character added", unit="nats"),
    "panels": lambda: plots.panels([plots.Panel("modes covered", plots.COUNT, series={"modes": ([1, 2, 3], [0, 2, 5])})],
                                   title="Modes", x_title="training step"),
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_builder_follows_the_rules(name):
    readable(SHARED[name]())


def test_every_shared_builder_is_checked():
    builders = {name for name, f in inspect.getmembers(plots, inspect.isfunction)
                if f.__module__ == plots.__name__ and not name.startswith("_")
                and inspect.signature(f).return_annotation in ("go.Figure", go.Figure)}
    assert builders - {"tidy"} == set(SHARED)


def test_coloured_text_wraps_long_prompts_and_centres_its_colours_at_zero():
    text = "In the beginning God created the heaven and the earth. " * 4
    values = rng.normal(0, 0.2, len(text))
    values[7] = -2.0
    heat = readable(plots.coloured_text(text, values, title="Attribution", unit="nats")).data[0]
    rows = -(-len(text) // plots.ROW_CHARS)
    assert np.shape(heat.z) == (rows, plots.ROW_CHARS) and np.isnan(heat.z[-1][-1])
    assert heat.text[0][2] == "␣" and heat.text[0][3] == "t"  # spaces visible, characters in reading order
    assert heat.zmid == 0 and heat.zmin == -2.0 and heat.zmax == 2.0
    assert heat.textfont.size >= 10
    short = plots.coloured_text("Amen", [0.1, -0.2, 0.3, 0.0], title="Attribution", unit="nats").data[0]
    assert np.shape(short.z) == (1, 4)


def test_fine_tune_curves_fix_probabilities_count_whole_steps_and_name_metrics():
    """The issue's charts: accuracy from one point ran 0-2; steps showed 0.5; legends said loss_plain."""
    accuracy = readable(plots.curves(classifier_events()[:1], ["accuracy"], title="Held-out accuracy"))
    assert list(accuracy.layout.yaxis.range) == [0, 1]
    short = readable(plots.curves([{"step": s, "loss": 1 / s} for s in (1, 2, 3)], ["loss"], title="Loss"))
    assert short.layout.xaxis.dtick == 1
    resnet = readable(plots.curves([{"step": s, "loss_plain": 2.3, "loss_residual": 2.3 - s / 50} for s in range(5, 60, 5)],
                                   ["loss_plain", "loss_residual"], title="Both nets"))
    assert [t.name for t in resnet.data] == ["plain net", "residual net"]
    first = readable(plots.curves([{"step": 106, "episode_return": 106.0}], ["episode_return"], title="Returns"))
    assert first.layout.yaxis.dtick >= 106 / 8, "a count axis from 0 keeps about 8 ticks, not one per unit"
    gan = plots.curves([{"step": 1, "d_loss": 1.3, "g_loss": 0.7}], ["d_loss", "g_loss"], title="Losses")
    assert [t.name for t in gan.data] == ["D's loss", "G's loss"]


def test_the_vae_kl_gets_its_own_axis():
    figure = readable(plots.curves(vae_events(), ["reconstruction", "kl"], title="The VAE's loss"))
    assert {t.name: t.yaxis for t in figure.data} == {"reconstruction error": "y", "KL divergence from the prior": "y2"}
    assert figure.layout.yaxis.title.text != figure.layout.yaxis2.title.text


def test_an_unknown_metric_key_is_spelled_out():
    assert plots.metric("bits_per_char").name == "bits per char"


# ---- each algorithm's figures ------------------------------------------------------------------------------

def episode(steps: int = 60) -> Episode:
    t = np.arange(steps + 1)
    states = np.stack([0.01 * t, 0.1 * np.sin(t / 5), 0.02 * np.sin(t / 7), 0.1 * np.cos(t / 7)], 1)
    return Episode(states=states, q_values=np.stack([40 - t / 3, 41 - t / 3], 1), actions=t[:-1] % 2, ret=float(steps),
                   fell=True)


def karate_like(n: int = 20):
    positions = rng.normal(size=(n, 2))
    edges = np.array([(i, (i + 1) % n) for i in range(n)] + [(i, (i + 5) % n) for i in range(0, n, 3)])
    return positions, edges, [f"node {i}" for i in range(n)], ["Mr. Hi", "Officer"]


def word_map(n_words: int = 45) -> WordMap:
    chosen = ["king", "water", "fire"]
    words, groups = [], []
    for c in chosen:
        words += [c] + [f"{c}{i}" for i in range(n_words // 3 - 1)]
        groups += [c] * (n_words // 3)
    coords = np.concatenate([rng.normal(loc, 0.3, (n_words // 3, 2)) for loc in ([0, 0], [1, 0], [0, 1])])
    return WordMap(words=words, coords=coords, groups=groups, chosen=[w in chosen for w in words])


def algorithm_figures() -> dict:
    from models.autoencoder import figures as ae
    from models.diffusion import figures as diffusion
    from models.dqn import figures as dqn
    from models.gan import figures as gan
    from models.gnn import figures as gnn
    from models.mlp import figures as mlp
    from models.self_supervised import figures as ssl
    from models.unet import figures as unet
    positions, edges, names, classes = karate_like()
    points = SimpleNamespace(x=rng.normal(size=(40, 2)), y=rng.integers(0, 2, 40), classes=("inner", "outer"))
    text = 'And he said unto them, "Go ye into all the world (and preach the gospel)." Paris is the capital of France.'
    series = TimeSeries(columns=["month", "co2"], value_column="co2", values=np.linspace(300, 420, 120),
                        dates=[f"{1990 + i // 12}-{i % 12 + 1:02d}" for i in range(120)])
    frame = {"step": 40, "surface": rng.random((40, 40)), "fake": rng.normal(size=(64, 2)), "push": rng.normal(size=(8, 2)),
             "mode_covered": np.array([True, False] * 4), "mode_shares": rng.random(8)}
    return {
        "autoencoder.latent_map": lambda: ae.latent_map(rng.normal(size=(300, 2)), rng.integers(0, 10, 300),
                                                        [f"class {i}" for i in range(10)], {"you": (0.1, 0.2)},
                                                        clickable=(np.linspace(-3, 3, 5), np.linspace(-3, 3, 5))),
        "diffusion.signal_to_noise": lambda: diffusion.signal_to_noise(np.geomspace(1e4, 1e-5, 1000), 250),
        "diffusion.steps_tradeoff": lambda: diffusion.steps_tradeoff(
            [10, 25, 50, 100], [3.1, 1.4, 1.0, 0.9], {"CUDA: NVIDIA H100 (model card)": [2e-4, 4e-4, 7e-4, 1.3e-3],
                                                      "CPU (2 threads), this machine": [0.09, 0.22, 0.44, 0.87]}),
        "dqn.episode_figure": lambda: dqn.episode_figure(episode(), "The agent, seed 0"),
        "dqn.q_landscape": lambda: dqn.q_landscape(rng.normal(size=(21, 21)), rng.random((21, 21)) * 50,
                                                   np.linspace(-0.2, 0.2, 21), np.linspace(-2, 2, 21), episode().states),
        "gan.toy_game_frame": lambda: gan.toy_game_frame(frame, rng.normal(size=(200, 2)), rng.normal(size=(8, 2)),
                                                         (-3, 3, -3, 3)),
        "gan.score_histograms": lambda: gan.score_histograms(rng.beta(2, 2, 500), rng.beta(2, 3, 500), 0.61, "Ankle boot"),
        "gnn.graph": lambda: gnn.graph(positions, edges, names, classes, rng.integers(0, 2, 20), "Predicted sides",
                                       rng.random(20), rng.integers(0, 2, 20), [0, 5]),
        "gnn.receptive_field": lambda: gnn.receptive_field(positions, edges, names, np.r_[0, np.arange(1, 20) % 5], 2),
        "gnn.embedding_animation": lambda: gnn.embedding_animation([(s, rng.uniform(-1, 1, (20, 2))) for s in (0, 10, 20)],
                                                                   rng.integers(0, 2, 20), classes, names, [0]),
        "gnn.adjacency": lambda: gnn.adjacency(rng.random((20, 20)), names),
        "mlp.decision_boundary": lambda: mlp.decision_boundary(rng.dirichlet([1, 1], (30, 30)).transpose(2, 0, 1),
                                                               (-2, 2, -2, 2), points, points),
        "mlp.unit_maps": lambda: mlp.unit_maps(rng.normal(size=(8, 20, 20)), True, "Hidden layer 1"),
        "rnn.char_heatmap": lambda: rnn_figures.char_heatmap(rng.uniform(-1, 1, (48, len(text))), text, np.arange(48),
                                                             "Hidden state h", True),
        "rnn.gate_means": lambda: rnn_figures.gate_means({n: rng.random((48, len(text))) for n in ("input", "forget")}, text),
        "rnn.forecast_figure": lambda: rnn_figures.forecast_figure(
            series, 12, {"naive": (series.values[-24:-12] + 12).tolist(), "mase_naive": 1.2},
            [{"step": 0, "actual": series.values[-12:].tolist(), "cell": "lstm"},
             {"step": 100, "forecast": (series.values[-12:] + 1).tolist(), "mase": 0.8}]),
        "self_supervised.feature_map": lambda: ssl.feature_map(rng.normal(size=(300, 2)), rng.integers(0, 10, 300),
                                                               [f"class {i}" for i in range(10)], {"your image": (0.1, 0.2)},
                                                               "t-SNE"),
        "self_supervised.label_efficiency": lambda: ssl.label_efficiency(
            {f"{k}_per_class": {"self_supervised": 0.5 + k / 300, "supervised": 0.3 + k / 200, "random_encoder": 0.4 + k / 400,
                                "labelled_images": 10 * k} for k in (1, 10, 100)}, 0.88, [("your probe: 5 per class", 5, 0.7)]),
        "transformer.attention_figure": lambda: transformer_figures.attention_figure(
            np.tril(rng.random((len(text), len(text)))), text, "Block 1, head 1"),
        "transformer.lens_figure": lambda: transformer_figures.lens_figure(rng.dirichlet(np.ones(30), (5, 48)), text[-48:],
                                                                            [chr(97 + i % 26) for i in range(30)]),
        "unet.label_overlay": lambda: unet.label_overlay(rng.random((64, 64)), rng.integers(0, 4, (64, 64)),
                                                         ["background", "circle", "square", "triangle"], "Predicted mask"),
        "word2vec.map_figure": lambda: word2vec_figures.map_figure(word_map(), "PCA"),
    }


def test_every_algorithm_figure_follows_the_rules():
    built = algorithm_figures()
    for name, build in built.items():
        problems = plots.check_readable(build())
        assert not problems, (name, problems)
    public = {f"{algo}.{name}" for algo in ALGORITHMS
              for name, f in inspect.getmembers(importlib.import_module(f"models.{algo}.figures"), inspect.isfunction)
              if f.__module__ == f"models.{algo}.figures" and not name.startswith("_")
              and inspect.signature(f).return_annotation in ("go.Figure", go.Figure)}
    assert public == set(built), "a figure builder without a test here, or a test of one that is gone"


def test_attention_labels_are_readable():
    """Every character of the big map keeps a cell of at least CELL_PX square and an 11 px label."""
    text = "And God said, Let there be light: and there was light. And God saw the light"
    figure = transformer_figures.attention_figure(np.tril(rng.random((len(text), len(text)))), text, "Block 1, head 1")
    n = transformer_figures.MAX_ATTENTION_CHARS
    assert len(figure.layout.xaxis.ticktext) == n and figure.layout.xaxis.tickfont.size >= 11
    assert figure.layout.height >= transformer_figures.CELL_PX * n and figure.layout.yaxis.scaleanchor == "x"
    assert f"the last {n} of {len(text)} characters" in figure.layout.title.text


def test_rnn_state_map_labels_words_a_readable_distance_apart():
    text = "the cat sat on a mat and it was a very good day for a cat to sit on a mat in the sun " * 2
    figure = rnn_figures.char_heatmap(rng.random((48, len(text))), text, np.arange(48), "Hidden state h", False)
    ticks = list(figure.layout.xaxis.tickvals)
    assert figure.layout.xaxis.tickfont.size >= 10 and len(ticks) <= 40
    assert min(np.diff(ticks)) >= len(text) // 40
    assert [text[i:].split()[0] for i in ticks] == list(figure.layout.xaxis.ticktext)
    short = rnn_figures.char_heatmap(rng.random((4, 11)), "hello world", np.arange(4), "Hidden state h", False)
    assert list(short.layout.xaxis.ticktext) == list("hello␣world")


def test_word_map_labels_do_not_overlap():
    points = word_map(60)
    xy = points.coords
    scale = 250.0  # pixels per unit: these clusters then fill a map about 650 px wide, as on the page
    places = word2vec_figures.label_places(xy, points.words, points.chosen, scale)
    assert all(places[i] for i, c in enumerate(points.chosen) if c), "every chosen word keeps its label"
    boxes = [word2vec_figures.label_box(x, y, word, chosen, place)
             for (x, y), word, chosen, place in zip(xy * scale, points.words, points.chosen, places) if place]
    assert len(boxes) > len(points.words) / 2, "most words keep a label"
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        assert not any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes[i + 1:])


def test_unet_overlay_keeps_its_width_for_the_image():
    """The class names are a legend, not a colour bar beside the image that narrowed it in a narrow column."""
    figure = algorithm_figures()["unet.label_overlay"]()
    assert not any(getattr(t, "showscale", False) for t in figure.data if t.type == "heatmap")
    assert [t.name for t in figure.data if t.type == "scatter"] == ["circle", "square", "triangle"]


# ---- the Runs page's figures ------------------------------------------------------------------------------

def _runs():
    from zoo.jobs.run_log import RunRecord
    runs = []
    for i, (lr, seed) in enumerate([(1e-4, 0), (1e-4, 1), (3e-4, 0)]):
        noise = np.random.default_rng(seed).normal(0, 0.05, 300)
        points = tuple({"step": s, "time": 1.7e9 + 0.2 * s, "loss": 0.6 / np.sqrt(s + 1) + noise[s],
                        **({"accuracy": 0.9 + 0.0002 * s} if s % 25 == 0 else {})} for s in range(300))
        histograms = tuple({"step": s, "layers": {"conv1.weight": {"range": (-0.5, 0.5),
                                                                   "counts": rng.integers(0, 50, 32).tolist()}}}
                           for s in range(0, 300, 25))
        runs.append(RunRecord(f"run{i}", "cnn", "zoo.training.image_classifier.finetune_classifier", "cnn-fashion",
                              {"lr": lr, "seed": seed, "steps": 300}, "done", 1.7e9 - 5, 1.7e9 - 1, 1.7e9 + 61,
                              points=points, histograms=histograms))
    return runs


def runs_figures() -> dict:
    from zoo.runs import curves
    from zoo.runs import figures as run_figures
    runs = _runs()
    labels = curves.run_labels(runs)
    lines = lambda metric, x_axis, weight=0.6: [curves.run_curve(r, l, metric, weight, x_axis) for r, l in zip(runs, labels)]
    grouped = curves.groups(runs)
    bands = lambda metric, spread: [curves.group_band(g, n, metric, 0.6, spread)
                                    for g, n in zip(grouped, curves.group_labels(grouped))]
    return {
        "metric_chart by step": lambda: run_figures.metric_chart("loss", lines("loss", "step")),
        "metric_chart raw": lambda: run_figures.metric_chart("loss", lines("loss", "step", 0.0)),
        "metric_chart relative time, log": lambda: run_figures.metric_chart("loss", lines("loss", "relative"),
                                                                            x_axis="relative", log_y=True),
        "metric_chart wall time": lambda: run_figures.metric_chart("loss", lines("loss", "wall"), x_axis="wall"),
        "metric_chart accuracy": lambda: run_figures.metric_chart("accuracy", lines("accuracy", "step")),
        "metric_chart groups": lambda: run_figures.metric_chart("loss", (), bands("loss", "min-max")),
        "metric_chart groups std": lambda: run_figures.metric_chart("accuracy", (), bands("accuracy", "std")),
        "weight_histogram_chart": lambda: run_figures.weight_histogram_chart(labels[0], "conv1.weight",
                                                                             runs[0].histograms),
    }


def test_every_runs_figure_follows_the_rules():
    from zoo.runs import figures as run_figures
    built = runs_figures()
    for name, build in built.items():
        problems = plots.check_readable(json.loads(build().to_json()))
        assert not problems, (name, problems)
    public = {name for name, f in inspect.getmembers(run_figures, inspect.isfunction)
              if f.__module__ == run_figures.__name__ and not name.startswith("_")}
    assert public == {name.split()[0] for name in built}, "a figure builder without a test here"


def test_a_groups_band_is_drawn_under_its_mean():
    figure = runs_figures()["metric_chart groups"]()
    names = [trace.name for trace in figure.data]
    assert len(names) == 6 and names[2].endswith("(2 runs)") and names[1].endswith(", lowest")
    assert figure.data[1].fill == "tonexty" and figure.layout.xaxis.title.text == "training step"


# ---- the Explain page's figures (zoo/explain/figures.py) ---------------------------------------------------

def measured_methods() -> list:
    from zoo.explain.attributions import WHAT_EACH_MEASURES, Attribution
    from zoo.explain.comparison import Measured
    from zoo.explain.faithfulness import Curves
    shares = np.linspace(0, 1, 21)
    methods = []
    for i, method in enumerate(WHAT_EACH_MEASURES):
        signed = method not in ("Saliency", "SmoothGrad", "Grad-CAM")
        values = rng.normal(size=(28, 28)) if signed else rng.random((28, 28))
        curves = Curves(shares, np.exp(-(3 + i) * shares), 1 - np.exp(-(3 + i) * shares))
        methods.append(Measured(Attribution(method, values, signed, 34, 32, 12.5), curves, values[::-1],
                                float("nan") if method == "Grad-CAM" else 0.1 * i))
    return methods


def explain_figures() -> dict:
    from zoo.explain import figures as explain
    methods = measured_methods()
    return {
        "attribution_maps": lambda: explain.attribution_maps(methods, "Trouser"),
        "evidence_overlay": lambda: explain.evidence_overlay(rng.random((28, 28)), methods[2].attribution),
        "faithfulness_curves": lambda: explain.faithfulness_curves(methods, "Trouser", "deletion"),
        "randomisation_maps": lambda: explain.randomisation_maps(methods),
        "perturbation": lambda: explain.perturbation(rng.uniform(-0.05, 0.05, (28, 28)), 0.05, "What the attack changed"),
    }


def test_every_explain_figure_follows_the_rules():
    from zoo.explain import figures as explain
    built = explain_figures()
    for name, build in built.items():
        problems = plots.check_readable(build())
        assert not problems, (name, problems)
    insertion = readable(explain.faithfulness_curves(measured_methods(), "Trouser", "insertion"))
    assert list(insertion.layout.xaxis.range) == [0, 1] and list(insertion.layout.yaxis.range) == [0, 1]
    public = {name for name, f in inspect.getmembers(explain, inspect.isfunction)
              if f.__module__ == explain.__name__ and not name.startswith("_")
              and inspect.signature(f).return_annotation in ("go.Figure", go.Figure)}
    assert public == set(built), "a figure builder without a test here, or a test of one that is gone"


# ---- the layer analysis's figures ---------------------------------------------------------------------------

def layer_figures() -> dict:
    import torch

    from zoo.layers import figures as layer_figures_module
    from zoo.layers.analysis import analyse
    from zoo.layers.batches import AnalysisBatch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 36, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    labels = rng.integers(0, 3, 60)
    analysis = analyse(model, AnalysisBatch((torch.rand(60, 1, 8, 8),), labels, ("circle", "square", "triangle"),
                                            "sixty noisy squares"))
    maps = [(f"{i + 1}. {layer.name}", layer.components[:, :2]) for i, layer in enumerate(analysis.layers)]
    return {
        "layer_histograms": lambda: layer_figures_module.layer_histograms(analysis.layers[0]),
        "unit_health": lambda: layer_figures_module.unit_health(analysis),
        "class_separation": lambda: layer_figures_module.class_separation(analysis),
        "layer_maps": lambda: layer_figures_module.layer_maps(maps, labels, analysis.classes, "PCA"),
    }


def test_every_layer_figure_follows_the_rules():
    from zoo.layers import figures as layer_figures_module
    built = layer_figures()
    for name, build in built.items():
        problems = plots.check_readable(build())
        assert not problems, (name, problems)
    public = {name for name, f in inspect.getmembers(layer_figures_module, inspect.isfunction)
              if f.__module__ == layer_figures_module.__name__ and not name.startswith("_")
              and inspect.signature(f).return_annotation in ("go.Figure", go.Figure)}
    assert public == set(built), "a figure builder without a test here, or a test of one that is gone"


# ---- every chart the pages draw ----------------------------------------------------------------------------

class InProcessRunner:
    """The job runner's interface with each job run at submit, in this process, to its end or for
    MAX_SECONDS (a live board's run goes on for minutes): the pages draw their fine-tune figures
    from real events, without worker processes."""
    MAX_SECONDS = 10.0
    job_seconds = 300.0  # what a live board plans its runs by

    def __init__(self):
        self.jobs: dict[str, tuple[list[dict], object]] = {}

    def submit(self, session_id, fn, page="", /, **kwargs):
        events, result, run = [], None, fn(**kwargs)
        deadline = time.monotonic() + self.MAX_SECONDS
        try:
            while time.monotonic() < deadline:
                events.append(next(run))
            run.close()
        except StopIteration as stop:
            result = stop.value
        job_id = f"job-{len(self.jobs)}"
        self.jobs[job_id] = (events, result)
        return job_id

    def events(self, job_id, since=0, until=None):
        return self.jobs[job_id][0][since:until]

    def status(self, job_id):
        return jobs.JobStatus("done", None, None, len(self.jobs[job_id][0]), 0.1)

    def result(self, job_id):
        return self.jobs[job_id][1]

    def cancel(self, job_id):
        pass

    def cancel_session(self, session_id):
        pass

    def pace(self, fn):
        return None  # never timed: the panel says so before Start

    def release(self, job_id):
        pass  # the page keeps what it drew; nothing here to free


def _png(draw) -> bytes:
    image = Image.new("RGB", (120, 100), "white")
    draw(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _class_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(4):
            archive.writestr(f"shapes/discs/{i}.png", _png(lambda d, i=i: d.ellipse([20 + i, 10, 90 + i, 80], fill="black")))
            archive.writestr(f"shapes/boxes/{i}.png", _png(lambda d, i=i: d.rectangle([20 + i, 10, 90, 80], fill="black")))
    return buffer.getvalue()


TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity. ") * 12
WORDS = "\n".join(" ".join(rng.choice(group) for _ in range(12)) for group in
                  [["apple", "pear", "plum", "fig", "grape"], ["car", "bus", "train", "tram", "bike"]] * 80)
# Each page and what to do on it, in order; every chart drawn after any step is checked.
SCENARIOS = {
    "mlp": [("button", "pg_step", None), ("slider", "mlp_steps", 10), ("button", "mlp_ft_start", None)],
    "cnn": [("slider", "cnn_steps", 10), ("button", "cnn_ft_start", None)],
    "resnet": [("slider", "resnet_demo_steps", 20), ("select_slider", "resnet_demo_width", 4),
               ("button", "resnet_demo_start", None), ("upload", "resnet_tl_zip", ("shapes.zip", _class_zip)),
               ("slider", "resnet_tl_steps", 10), ("button", "resnet_tl_start", None)],
    "rnn": [("radio", "rnn_cell", "GRU"), ("slider", "rnn_ft_steps", 10), ("text_area", "rnn_ft_text", TEXT),
            ("button", "rnn_ft_start", None), ("slider", "rnn_fc_steps", 20), ("button", "rnn_fc_start", None)],
    "transformer": [("radio", "transformer_attention_view", "All heads"), ("slider", "transformer_steps", 10),
                    ("text_area", "transformer_data_text", TEXT), ("button", "transformer_ft_start", None)],
    "word2vec": [("radio", "w2v_map_dims", "3-D"), ("radio", "w2v_map_dims", "2-D"),
                 ("radio", "w2v_source", "Train on your text"), ("slider", "w2v_epochs", 2),
                 ("text_area", "w2v_text", WORDS), ("button", "w2v_train_start", None)],
    "autoencoder": [("slider", "ae_ft_steps", 20), ("button", "ae_ft_start", None)],
    "gan": [("button", "gan_start", None), ("slider", "gan_ft_steps", 10), ("button", "gan_ft_start", None)],
    "diffusion": [("slider", "diff_ft_steps", 20), ("button", "diff_ft_start", None)],
    "unet": [("toggle", "unet_zero_skips", True), ("slider", "unet_ft_steps", 10), ("button", "unet_ft_start", None)],
    "gnn": [("button", "gnn_train_start", None), ("button", "gnn_compare_start", None), ("button", "gnn_depth_start", None)],
    "dqn": [("select_slider", "dqn_ft_steps", 500), ("button", "dqn_ft_start", None)],
    "explain": [("select_slider", "explain_ig_steps", 16), ("slider", "explain_patch", 8), ("slider", "explain_epsilon", 0.2),
                ("selectbox", "explain_model", "resnet-fashion")],
    "self_supervised": [("radio", "ssl_map_method", "t-SNE"), ("select_slider", "ssl_temperature", 0.05),
                        ("slider", "ssl_ft_steps", 10), ("slider", "ssl_ft_n", 500), ("button", "ssl_ft_start", None)],
    "layers": [("radio", "layers_method", "t-SNE")],
}
# The charts the scenarios must have drawn: those of every job they ran, among others.
DRAWN = {
    "mlp": {"pg_losses", "pg_units", "mlp_ft_loss", "mlp_ft_validation_loss", "mlp_ft_accuracy"},
    "cnn": {"cnn_maps", "cnn_why", "cnn_ft_loss", "cnn_ft_validation_loss", "cnn_ft_accuracy"},
    "resnet": {"resnet_demo_loss", "resnet_demo_profile", "resnet_demo_heat_plain", "resnet_tl_preview",
               "resnet_tl_curve_loss", "resnet_tl_curve_accuracy"},
    "rnn": {"rnn_why_chart", "rnn_hidden_map", "rnn_cell_map", "rnn_gate_means", "rnn_ft_loss", "rnn_ft_validation", "rnn_fc_chart", "rnn_fc_loss"},
    "transformer": {"transformer_why_chart", "transformer_attention_all", "transformer_attention_one", "transformer_lens", "transformer_ft_loss",
                    "transformer_ft_validation"},
    "word2vec": {"w2v_map_chart", "w2v_heat", "w2v_train_loss"},
    "autoencoder": {"ae_map", "ae_ft_curves", "ae_ft_pictures"},
    "gan": {"gan_plane", "gan_losses", "gan_modes", "gan_ft_losses", "gan_ft_scores", "gan_ft_samples"},
    "diffusion": {"diff_reverse", "diff_tradeoff", "diff_ft_curve", "diff_ft_samples"},
    "unet": {"unet_ft_example_0", "unet_skips_off", "unet_ft_loss", "unet_ft_dice"},
    "gnn": {"gnn_live_graph", "gnn_live_accuracy", "gnn_live_loss", "gnn_compare_chart", "gnn_depth_chart"},
    "dqn": {"dqn_episode", "dqn_landscape", "dqn_learning_curve", "dqn_ft_returns", "dqn_ft_epsilon", "dqn_ft_loss"},
    "explain": {"explain_seen", "explain_probs", "explain_maps", "explain_deletion", "explain_insertion", "explain_randomised",
                "explain_attacked", "explain_perturbation"},
    "self_supervised": {"ssl_view_1", "ssl_map", "ssl_neighbours", "ssl_label_efficiency", "ssl_cosine", "ssl_partner",
                        "ssl_ft_loss", "ssl_ft_knn"},
    "layers": {"layers_health", "layers_histogram_0", "layers_separation", "layers_maps"},
}


def _act(at, kind: str, key: str, value) -> None:
    if kind == "button":
        at.button(key=key).click()
    elif kind == "upload":
        name, make = value
        at.file_uploader(key=key).upload(name, make(), "application/zip")
    else:
        getattr(at, kind)(key=key).set_value(value)
    at.run()
    assert not at.exception, at.exception


def _unreadable_charts(at, page: str) -> dict[str, list[str]]:
    found = {}
    for chart in at.get("plotly_chart"):
        problems = plots.check_readable(json.loads(chart.proto.spec))
        if problems:
            found[f"{page}: {chart.key}"] = problems
    return found


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(SCENARIOS))
def test_every_chart_a_page_draws_reads_on_its_own(page, monkeypatch):
    from tests.app.conftest import open_page
    runner = InProcessRunner()
    monkeypatch.setattr(jobs, "get_runner", lambda: runner)
    at = open_page(f"pages/{page}.py", timeout=600)
    problems, seen = _unreadable_charts(at, page), {c.key for c in at.get("plotly_chart")}
    for kind, key, value in SCENARIOS[page]:
        _act(at, kind, key, value)
        problems |= _unreadable_charts(at, page)
        seen |= {c.key for c in at.get("plotly_chart")}
    assert not problems, problems
    assert DRAWN[page] <= seen, f"not drawn: {sorted(DRAWN[page] - seen)}"
