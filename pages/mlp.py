"""MLP / DNN page: build a small network and watch it learn on 2-D points, then meet a deep MLP
on Fashion-MNIST beside the CNN, look inside it and fine-tune it."""

import numpy as np
import streamlit as st

from models.mlp import figures, playground as pg
from models.mlp.explore import look_inside
from models.mlp.model import ACTIVATIONS, FEATURES
from zoo import checkpoints, i18n, jobs, plots, ui
from zoo.data import fashion_mnist, toy2d
from zoo.i18n import t
from zoo.explain.inspection import inspect_image
from zoo.training.image_classifier import VALIDATION_IMAGES, finetune_classifier

NAME, CNN = "mlp-fashion", "cnn-fashion"
POLL_SECONDS = 0.5  # DESIGN: a live fragment redraws at most twice a second
SPEEDS = {"10 steps/s": 10.0, "100 steps/s": 100.0, "full speed": None}
"""the speeds by their codes (option values); a reader sees SPEED_KEYS' texts"""
SPEED_KEYS = {"10 steps/s": "slow", "100 steps/s": "medium", "full speed": "full"}
MY_CSV = "My CSV"
"""the data set option of a person's own CSV, beside toy2d.GENERATORS' codes"""
FEATURE_KEYS = {"xy": "xy", "sin x": "sin_x", "sin y": "sin_y"}
"""the input features whose names a reader's language writes its own way; the others are formulas"""

ui.page_intro(t("mlp.title"), t("mlp.intro"))


def _data_name(code: str) -> str:
    return t("mlp.my_csv") if code == MY_CSV else toy2d.set_name(code)


def _feature_name(code: str) -> str:
    return t(f"mlp.feature.{FEATURE_KEYS[code]}") if code in FEATURE_KEYS else code


def _activation_name(code: str) -> str:
    return t(f"mlp.activation_name.{code}")



@st.cache_data(show_spinner=False, max_entries=20)
def _read_points(data: bytes, name: str, language: str) -> toy2d.Points:
    """The CSV's points; `language` keys the cache, since the points' note is a sentence in it."""
    return toy2d.read_csv(data, name)


def _data_controls() -> tuple[toy2d.Points, tuple] | None:
    """The points the person chose and a key that changes whenever they do (None: nothing usable)."""
    source = st.selectbox(t("mlp.data_set"), [*toy2d.GENERATORS, MY_CSV], format_func=i18n.as_drawn(_data_name),
                          key="pg_data")
    if source == MY_CSV:
        upload = st.file_uploader(t("mlp.csv_upload"), type=["csv", "txt"], key="pg_csv")
        st.caption(t("mlp.csv_help", max_classes=toy2d.MAX_CLASSES, max_rows=toy2d.MAX_ROWS))
        if upload is None:
            return None
        try:
            points = _read_points(upload.getvalue(), upload.name, i18n.language())
        except toy2d.CSVError as error:
            st.error(str(error))
            return None
        if points.note:
            st.info(points.note)
        key = (source, upload.file_id)
    else:
        noise = st.slider(t("mlp.noise"), 0.0, 0.5, 0.1, 0.05, key="pg_noise")
        n = st.slider(t("mlp.points"), 100, 2000, 400, 100, key="pg_n")
        classes = (st.slider(t("mlp.classes"), 2, 6, 3 if source == "Gaussian blobs" else 2,
                             key=f"pg_classes_{source}")
                   if source in toy2d.MULTICLASS else None)
        points = toy2d.make(source, n, noise, n_classes=classes)
        key = (source, noise, n, classes)
    share = st.slider(t("mlp.test_share"), 0.1, 0.5, 0.3, 0.05, key="pg_test", help=t("mlp.test_share_help"))
    return points, key + (share,)


def _layer(playground: pg.Playground) -> int:
    """The hidden layer whose units are shown (chosen on the board), 1 when there is no choice."""
    return min(st.session_state.get("pg_layer", 1), max(1, len(playground.config.hidden)))


def _start(playground: pg.Playground, settings: pg.TrainSettings, speed: str) -> None:
    try:
        playground.start(jobs.get_runner(), ui.job_session(), settings, _layer(playground), SPEEDS[speed])
    except jobs.JobLimitError as error:
        st.session_state["pg_error"] = str(error)


def _reset(playground: pg.Playground) -> None:
    playground.pause(jobs.get_runner())
    st.session_state["pg"] = pg.Playground.create(playground.config, playground.train, playground.test,
                                                  seed=playground.seed + 1)


def _board() -> None:
    """Metrics, decision boundary, loss curves and hidden units of the session's playground."""
    playground: pg.Playground = st.session_state["pg"]
    status = playground.poll(jobs.get_runner())
    hidden = playground.config.hidden
    layer = _layer(playground)
    view = playground.view(layer)
    if status is not None and status.state == "queued":
        st.info(t("mlp.queued", position=status.position))
    cols = st.columns(4)
    cols[0].metric(t("mlp.step"), i18n.number(playground.step), help=t("mlp.epoch", epoch=view.get("epoch", 0)))
    cols[1].metric(t("mlp.train_loss"), i18n.number(view["train_loss"], ".3f"))
    cols[2].metric(t("mlp.test_loss"), i18n.number(view["test_loss"], ".3f") if "test_loss" in view else "–")
    cols[3].metric(t("mlp.test_accuracy"),
                   i18n.number(view["test_accuracy"], ".1%") if "test_accuracy" in view else "–")
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.decision_boundary(view["proba"], playground.bounds, playground.train, playground.test),
                      key="pg_boundary")
    if playground.history:
        right.plotly_chart(plots.curves(playground.history, ["train_loss", "test_loss"], title=t("mlp.losses_title"),
                                        height=300), key="pg_losses")
    else:
        right.info(t("mlp.no_curves"))
    if hidden:
        st.markdown(t("mlp.hidden_units", activation=_activation_name(playground.config.activation)))
        if len(hidden) > 1:  # its value is already in `layer`: widgets update the session state before a rerun
            st.select_slider(t("mlp.hidden_layer"), list(range(1, len(hidden) + 1)), key="pg_layer")
        st.plotly_chart(figures.unit_maps(view["units"], signed=playground.config.activation == "tanh",
                                          title=t("mlp.units_title", layer=layer)),
                        key="pg_units")
    if status is not None and status.finished:
        st.rerun()  # the whole page: the buttons change back


_live_board = st.fragment(run_every=POLL_SECONDS)(_board)


@st.fragment
def playground_section() -> None:
    """Data, network and training controls, the buttons and the board; reruns on its own."""
    st.header(t("mlp.playground_header"))
    st.markdown(t("mlp.playground_text"))
    data_col, net_col, train_col = st.columns(3)
    with data_col:
        chosen = _data_controls()
    with net_col:
        features = tuple(st.multiselect(t("mlp.features"), list(FEATURES), default=["x", "y"], key="pg_features",
                                        format_func=i18n.as_drawn(_feature_name), help=t("mlp.features_help")))
        hidden_text = st.text_input(t("mlp.hidden_sizes"), "8, 8", key="pg_hidden", max_chars=40,
                                    help=t("mlp.hidden_sizes_help", max_layers=pg.MAX_LAYERS, max_units=pg.MAX_UNITS))
        activation = st.selectbox(t("mlp.activation"), list(ACTIVATIONS), index=list(ACTIVATIONS).index("tanh"),
                                  format_func=i18n.as_drawn(_activation_name), key="pg_activation")
    with train_col:
        settings = pg.TrainSettings(
            lr=st.select_slider(t("mlp.learning_rate"), [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], 0.03,
                                format_func=i18n.as_drawn(lambda v: i18n.number(v, "g")), key="pg_lr"),
            l2=st.select_slider(t("mlp.l2"), [0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1], 0.0,
                                format_func=i18n.as_drawn(lambda v: i18n.number(v, "g")), key="pg_l2"),
            batch_size=st.select_slider(t("mlp.batch_size"), [1, 2, 4, 8, 16, 32, 64, 128], 16, key="pg_batch"),
            optimizer=st.radio(t("mlp.optimizer"), list(pg.OPTIMIZERS), horizontal=True, key="pg_optimizer"))
        speed = st.select_slider(t("mlp.speed"), list(SPEEDS), "full speed", key="pg_speed",
                                 format_func=i18n.as_drawn(lambda code: t(f"mlp.speed_option.{SPEED_KEYS[code]}")))
    try:
        hidden = pg.parse_hidden(hidden_text)
    except ValueError as error:
        st.error(str(error))
        return
    if not features:
        st.error(t("mlp.no_feature"))
        return
    if chosen is None:
        return
    points, data_key = chosen
    runner = jobs.get_runner()
    playground = st.session_state.get("pg")
    design = (data_key, features, hidden, activation)
    if playground is None or st.session_state.get("pg_design") != design:
        if playground is not None:
            playground.pause(runner)
        train, test = toy2d.split(points, data_key[-1])
        playground = pg.Playground.create(pg.network(train, features, hidden, activation), train, test)
        st.session_state["pg"], st.session_state["pg_design"] = playground, design
    if playground.running and (playground.settings, playground.steps_per_s) != (settings, SPEEDS[speed]):
        playground.pause(runner)  # new learning rate, L2, batch size or speed: go on with them at once
        _start(playground, settings, speed)
    # Start, Pause and Reset switch between the live board (a fragment polling the job) and the still
    # one, so they rerun the whole page: a fragment rerun left the old board's charts on the page.
    buttons = st.columns([1, 1, 1, 1, 3])
    if buttons[0].button(t("mlp.start"), key="pg_start", icon=":material/play_arrow:", type="primary",
                         disabled=playground.running):
        _start(playground, settings, speed)
        st.rerun()
    if buttons[1].button(t("mlp.pause"), key="pg_pause", icon=":material/pause:", disabled=not playground.running):
        playground.pause(runner)
        st.rerun()
    buttons[2].button(t("mlp.one_step"), key="pg_step", icon=":material/skip_next:", disabled=playground.running,
                      on_click=lambda: playground.one_step(settings, _layer(playground)))
    if buttons[3].button(t("mlp.reset"), key="pg_reset", icon=":material/restart_alt:", help=t("mlp.reset_help")):
        _reset(playground)
        st.rerun()
    if error := st.session_state.pop("pg_error", None):
        st.error(error)
    elif playground.notice:
        st.info(playground.notice)
    (_live_board if playground.running else _board)()
    with st.expander(t("mlp.things_to_try")):
        st.markdown(t("mlp.things_to_try_text"))


ui.view_in_url("pg_data", "pg_noise", "pg_n", "pg_test", "pg_hidden", "pg_activation", "pg_lr", "pg_optimizer",
               "mlp_source", "mlp_gallery")
playground_section()

st.header(t("mlp.deep_header"))
st.markdown(t("mlp.deep_text"))
model, card = ui.shared_model(NAME)
cnn_present = checkpoints.paths(CNN)[0].is_file() and checkpoints.paths(CNN)[1].is_file()
cnn, cnn_card = ui.shared_model(CNN) if cnn_present else (None, None)
if cnn_card:
    st.caption(t("mlp.accuracy_both", accuracy=card["metrics"]["accuracy"], parameters=card["parameters"],
                 cnn_accuracy=cnn_card["metrics"]["accuracy"], cnn_parameters=cnn_card["parameters"],
                 n=card["metrics"]["n"]))
else:
    st.caption(t("mlp.accuracy", accuracy=card["metrics"]["accuracy"], parameters=card["parameters"],
                 n=card["metrics"]["n"]))
ui.model_card(card)

image, caption = ui.fashion_image_input("mlp")
if image is None:
    st.stop()
seen = image[0].numpy()
look = inspect_image(model, image)
top = int(look.probs.argmax())
class_names = fashion_mnist.class_names()
columns = st.columns(3 if cnn is not None else 2)
with columns[0]:
    st.plotly_chart(plots.image(seen, t("mlp.both_see")), key="mlp_seen")
    st.caption(caption)
with columns[1]:
    st.subheader(t("mlp.mlp_prediction", label=class_names[top], probability=float(look.probs[top])))
    st.plotly_chart(plots.probability_bars(look.probs, class_names, title=t("mlp.mlp_top5"), top=5), key="mlp_probs")
if cnn is not None:
    cnn_look = inspect_image(cnn, image)
    cnn_top = int(cnn_look.probs.argmax())
    with columns[2]:
        st.subheader(t("mlp.cnn_prediction", label=class_names[cnn_top], probability=float(cnn_look.probs[cnn_top])))
        st.plotly_chart(plots.probability_bars(cnn_look.probs, class_names, title=t("mlp.cnn_top5"), top=5),
                        key="mlp_cnn_probs")
else:
    st.info(t("mlp.no_cnn", name=CNN))

st.subheader(t("mlp.inside"))
inside = look_inside(model, image, k=16)
st.markdown(t("mlp.saliency_text"))
maps = st.columns(2)
maps[0].plotly_chart(plots.overlay(seen, look.saliency, t("mlp.mlp_saliency")), key="mlp_saliency")
if cnn is not None:
    maps[1].plotly_chart(plots.overlay(seen, cnn_look.saliency, t("mlp.cnn_saliency")), key="mlp_cnn_saliency")
st.markdown(t("mlp.templates_text"))
st.plotly_chart(plots.image_grid(inside.templates, title=t("mlp.templates_title"),
                                 titles=[t("mlp.unit_tile", unit=int(u), value=float(v))
                                         for u, v in zip(inside.top_units, inside.top_values)],
                                 cols=8, height_per_row=120, symmetric=True, gap=0.02), key="mlp_templates")
st.markdown(t("mlp.activations_text"))
for column, (i, act) in zip(st.columns(len(inside.activations)), enumerate(inside.activations)):
    column.plotly_chart(plots.image(act, t("mlp.layer_units", layer=i + 1, units=model.config.hidden[i]),
                                    height=60 + 10 * len(act), colorscale=plots.HEAT), key=f"mlp_activations_{i}")
if "confusion" in card["metrics"]:
    with st.expander(t("mlp.confusion_expander")):
        st.plotly_chart(plots.confusion(np.array(card["metrics"]["confusion"]), class_names,
                                        title=t("mlp.confusion_title")), key="mlp_confusion")

st.header(t("mlp.finetune_header"))
st.markdown(t("mlp.finetune_text"))
test_images = card["metrics"]["n"]
measured_images = test_images - VALIDATION_IMAGES  # every other test image: the MLP reads 9,000 in half a second
st.caption(t("mlp.which_images", test_images=test_images, validation=VALIDATION_IMAGES, measured=measured_images,
             accuracy=card["metrics"]["accuracy"]))
lr = st.select_slider(t("mlp.learning_rate"), options=[1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3], value=3e-5,
                      format_func=lambda v: f"{v:.0e}", key="mlp_lr")
steps = st.slider(t("mlp.steps"), 10, 500, 100, step=10, key="mlp_steps")
n_train = st.slider(t("mlp.training_images"), 500, 20000, 2000, step=500, key="mlp_n")


def draw_finetune(events: list[dict]) -> None:
    for column, metric in zip(st.columns(3), ["loss", "validation_loss", "accuracy"]):
        column.plotly_chart(plots.curves(events, [metric], title=t(f"image_classifier.chart.{metric}"), height=240),
                            key=f"mlp_ft_{metric}")
    final = next((e for e in events if "summary" in e), None)
    if final is not None:
        st.caption(final["summary"])
        for warning in final["warnings"]:
            st.warning(warning)


ui.training_panel("mlp_ft", finetune_classifier,
                  dict(name=NAME, lr=lr, steps=steps, n_train=n_train, n_test=measured_images),
                  download_name=f"{NAME}-finetuned.safetensors", draw=draw_finetune)
