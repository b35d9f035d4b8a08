"""MLP / DNN page: build a small network and watch it learn on 2-D points, then meet a deep MLP
on Fashion-MNIST beside the CNN, look inside it and fine-tune it."""
import numpy as np
import streamlit as st

from models.mlp import figures, playground as pg
from models.mlp.explore import look_inside
from models.mlp.model import ACTIVATIONS, FEATURES
from zoo import checkpoints, jobs, plots, ui
from zoo.data import fashion_mnist, toy2d
from zoo.explain.inspection import inspect_image
from zoo.training.image_classifier import VALIDATION_IMAGES, finetune_classifier

NAME, CNN = "mlp-fashion", "cnn-fashion"
POLL_SECONDS = 0.5  # DESIGN: a live fragment redraws at most twice a second
SPEEDS = {"10 steps/s": 10.0, "100 steps/s": 100.0, "full speed": None}

ui.page_intro(
    "Multilayer perceptron (MLP / DNN)",
    "An MLP stacks layers of units; each unit takes a weighted sum of every output of the layer "
    "before and bends it with a nonlinearity, so each layer can fold the space a little more until "
    "a straight cut separates the classes. Build one below and watch it learn to split points in "
    "the plane, then see how a deep MLP reads real images next to a convolutional network.")


@st.cache_data(show_spinner=False, max_entries=20)
def _read_points(data: bytes, name: str) -> toy2d.Points:
    return toy2d.read_csv(data, name)


def _data_controls() -> tuple[toy2d.Points, tuple] | None:
    """The points the person chose and a key that changes whenever they do (None: nothing usable)."""
    source = st.selectbox("Data set", [*toy2d.GENERATORS, "My CSV"], key="pg_data")
    if source == "My CSV":
        upload = st.file_uploader("CSV of x, y, label rows", type=["csv", "txt"], key="pg_csv")
        st.caption(f"Numbers for x and y, a whole number or a name for the label; a header row is "
                   f"optional; 2 to {toy2d.MAX_CLASSES} classes, up to {toy2d.MAX_ROWS:,} points are used.")
        if upload is None:
            return None
        try:
            points = _read_points(upload.getvalue(), upload.name)
        except toy2d.CSVError as error:
            st.error(str(error))
            return None
        if points.note:
            st.info(points.note)
        key = (source, upload.file_id)
    else:
        noise = st.slider("Noise", 0.0, 0.5, 0.1, 0.05, key="pg_noise")
        n = st.slider("Points", 100, 2000, 400, 100, key="pg_n")
        classes = (st.slider("Classes", 2, 6, 3 if source == "Gaussian blobs" else 2, key=f"pg_classes_{source}")
                   if source in toy2d.MULTICLASS else None)
        points = toy2d.make(source, n, noise, n_classes=classes)
        key = (source, noise, n, classes)
    share = st.slider("Test share", 0.1, 0.5, 0.3, 0.05, key="pg_test", help="points held out to measure the test loss")
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
        st.info(f"Waiting for a free training slot: number {status.position} in the queue.")
    cols = st.columns(4)
    cols[0].metric("Step", f"{playground.step:,}", help=f"epoch {view.get('epoch', 0):.1f}")
    cols[1].metric("Train loss", f"{view['train_loss']:.3f}")
    cols[2].metric("Test loss", f"{view['test_loss']:.3f}" if "test_loss" in view else "–")
    cols[3].metric("Test accuracy", f"{view['test_accuracy']:.1%}" if "test_accuracy" in view else "–")
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.decision_boundary(view["proba"], playground.bounds, playground.train, playground.test),
                      key="pg_boundary")
    if playground.history:
        right.plotly_chart(plots.curves(playground.history, ["train_loss", "test_loss"], title="Loss on the training "
                                        "and test points", height=300), key="pg_losses")
    else:
        right.info("The loss curves appear once it trains: press **Start** or **One step**.")
    if hidden:
        st.markdown(f"**Inside: the hidden units.** Each map is one unit's output ({playground.config.activation}) "
                    "over the same plane; the next layer combines these shapes into its own.")
        if len(hidden) > 1:  # its value is already in `layer`: widgets update the session state before a rerun
            st.select_slider("Hidden layer", list(range(1, len(hidden) + 1)), key="pg_layer")
        st.plotly_chart(figures.unit_maps(view["units"], signed=playground.config.activation == "tanh",
                                          title=f"Hidden layer {layer}: each unit's output over the plane"),
                        key="pg_units")
    if status is not None and status.finished:
        st.rerun()  # the whole page: the buttons change back


_live_board = st.fragment(run_every=POLL_SECONDS)(_board)


@st.fragment
def playground_section() -> None:
    """Data, network and training controls, the buttons and the board; reruns on its own."""
    st.header("1. Playground: a network you build")
    st.markdown("Pick points, build a network and train it: the background shows which class it "
                "predicts everywhere in the plane (pale where it is unsure), the points on top are "
                "the training (white rim) and test (dark rim) data.")
    data_col, net_col, train_col = st.columns(3)
    with data_col:
        chosen = _data_controls()
    with net_col:
        features = tuple(st.multiselect("Input features", list(FEATURES), default=["x", "y"], key="pg_features",
                                        help="what the first layer sees: the coordinates or functions of them"))
        hidden_text = st.text_input("Hidden layers: units in each", "8, 8", key="pg_hidden", max_chars=40,
                                    help=f"e.g. `8, 8` or `16, 8, 4`; empty for none (a linear classifier); "
                                         f"up to {pg.MAX_LAYERS} layers of {pg.MAX_UNITS} units")
        activation = st.selectbox("Activation", list(ACTIVATIONS), index=list(ACTIVATIONS).index("tanh"),
                                  key="pg_activation")
    with train_col:
        settings = pg.TrainSettings(
            lr=st.select_slider("Learning rate", [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], 0.03, key="pg_lr"),
            l2=st.select_slider("L2 regularisation", [0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1], 0.0, key="pg_l2"),
            batch_size=st.select_slider("Batch size", [1, 2, 4, 8, 16, 32, 64, 128], 16, key="pg_batch"),
            optimizer=st.radio("Optimizer", list(pg.OPTIMIZERS), horizontal=True, key="pg_optimizer"))
        speed = st.select_slider("Speed", list(SPEEDS), "full speed", key="pg_speed")
    try:
        hidden = pg.parse_hidden(hidden_text)
    except ValueError as error:
        st.error(str(error))
        return
    if not features:
        st.error("Choose at least one input feature.")
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
    if buttons[0].button("Start", key="pg_start", icon=":material/play_arrow:", type="primary",
                         disabled=playground.running):
        _start(playground, settings, speed)
        st.rerun()
    if buttons[1].button("Pause", key="pg_pause", icon=":material/pause:", disabled=not playground.running):
        playground.pause(runner)
        st.rerun()
    buttons[2].button("One step", key="pg_step", icon=":material/skip_next:", disabled=playground.running,
                      on_click=lambda: playground.one_step(settings, _layer(playground)))
    if buttons[3].button("Reset", key="pg_reset", icon=":material/restart_alt:", help="fresh random weights"):
        _reset(playground)
        st.rerun()
    if error := st.session_state.pop("pg_error", None):
        st.error(error)
    elif playground.notice:
        st.info(playground.notice)
    (_live_board if playground.running else _board)()
    with st.expander("Things to try"):
        st.markdown(
            "- **Circles** with no hidden layers (empty box): a linear classifier can only draw a straight "
            "line. Now add the features x² and y²: the same linear model draws a circle.\n"
            "- **Spiral** with `8, 8` tanh units, then with `2`: too small a network cannot wind around it.\n"
            "- Push the **learning rate** to 1 or 3 and watch the loss jump; lower the **batch size** to 1 "
            "and watch it get noisy.\n"
            "- A few **points** with much **noise** and a big network: the training loss falls while the "
            "test loss rises (overfitting). Raise **L2** to smooth the boundary.\n"
            "- **ReLU** units cut the plane with straight creases; **tanh** and **sigmoid** bend it smoothly.")


ui.view_in_url("pg_data", "pg_noise", "pg_n", "pg_test", "pg_hidden", "pg_activation", "pg_lr", "pg_optimizer",
               "mlp_source", "mlp_gallery")
playground_section()

st.header("2. A deep MLP on Fashion-MNIST")
st.markdown(
    "The same idea at scale: the 28x28 image is flattened into 784 numbers and fed through three "
    "hidden layers. Every first-layer unit sees every pixel at a fixed place, so it cannot reuse "
    "what it learned at one position at another; a CNN can, which is what convolution adds.")
model, card = ui.shared_model(NAME)
cnn_present = checkpoints.paths(CNN)[0].is_file() and checkpoints.paths(CNN)[1].is_file()
cnn, cnn_card = ui.shared_model(CNN) if cnn_present else (None, None)
accuracies = f"MLP test accuracy **{card['metrics']['accuracy']:.2%}** · {card['parameters']:,} parameters"
if cnn_card:
    accuracies += f" — CNN **{cnn_card['metrics']['accuracy']:.2%}** · {cnn_card['parameters']:,} parameters"
st.caption(accuracies + f" (on {card['metrics']['n']:,} held-out images)")
ui.model_card(card)

image, caption = ui.fashion_image_input("mlp")
if image is None:
    st.stop()
seen = image[0].numpy()
look = inspect_image(model, image)
top = int(look.probs.argmax())
columns = st.columns(3 if cnn is not None else 2)
with columns[0]:
    st.plotly_chart(plots.image(seen, "What both models see (28x28)"), key="mlp_seen")
    st.caption(caption)
with columns[1]:
    st.subheader(f"MLP: {fashion_mnist.CLASSES[top]} · {look.probs[top]:.1%}")
    st.plotly_chart(plots.probability_bars(look.probs, fashion_mnist.CLASSES, title="The MLP's five likeliest classes",
                                           top=5), key="mlp_probs")
if cnn is not None:
    cnn_look = inspect_image(cnn, image)
    cnn_top = int(cnn_look.probs.argmax())
    with columns[2]:
        st.subheader(f"CNN: {fashion_mnist.CLASSES[cnn_top]} · {cnn_look.probs[cnn_top]:.1%}")
        st.plotly_chart(plots.probability_bars(cnn_look.probs, fashion_mnist.CLASSES,
                                               title="The CNN's five likeliest classes", top=5), key="mlp_cnn_probs")
else:
    st.info(f"The CNN checkpoint is not here, so there is nothing to compare with: "
            f"build it with `python -m zoo.train {CNN}`.")

st.subheader("Inside the MLP")
inside = look_inside(model, image, k=16)
st.markdown("**Where it looks.** Saliency: how much each pixel would change the winning score, "
            "for the MLP and, beside it, the CNN.")
maps = st.columns(2)
maps[0].plotly_chart(plots.overlay(seen, look.saliency, "MLP saliency"), key="mlp_saliency")
if cnn is not None:
    maps[1].plotly_chart(plots.overlay(seen, cnn_look.saliency, "CNN saliency"), key="mlp_cnn_saliency")
st.markdown("**What its first-layer units look for.** Each unit's 784 weights drawn as a 28x28 image "
            "(red: bright pixels there raise its output, blue: lower it), for the 16 units this input "
            "excites most.")
st.plotly_chart(plots.image_grid(inside.templates, title="The 16 first-layer units this input excites most, with "
                                 "their output", titles=[f"unit {u} · {v:.1f}" for u, v in zip(inside.top_units,
                                                                                        inside.top_values)],
                                 cols=8, height_per_row=120, symmetric=True, gap=0.02), key="mlp_templates")
st.markdown("**Hidden activations for this input**, one square per unit, 32 to a row, each layer scaled "
            "to its strongest unit: most units stay silent and a few fire, a different few for each kind of garment.")
for column, (i, act) in zip(st.columns(len(inside.activations)), enumerate(inside.activations)):
    column.plotly_chart(plots.image(act, f"Layer {i + 1}: {model.config.hidden[i]} units", height=60 + 10 * len(act),
                                    colorscale=plots.HEAT), key=f"mlp_activations_{i}")
if "confusion" in card["metrics"]:
    with st.expander("Where it is wrong: the MLP's confusion matrix on the 10,000 test images"):
        st.plotly_chart(plots.confusion(np.array(card["metrics"]["confusion"]), fashion_mnist.CLASSES,
                                        title="The MLP's confusion matrix on the 10,000 test images"), key="mlp_confusion")

st.header("3. Fine-tune it")
st.markdown("Continue training a private copy on a Fashion-MNIST subset; the shared model stays as it is. The MLP has "
            "already learned from all 60,000 training images, so more steps on a few thousand of them teach it little: "
            "at the default learning rate its accuracy stays about where it was. Raise the learning rate to watch it "
            "overfit the subset instead: the training loss falls while the validation loss rises.")
test_images = card["metrics"]["n"]
measured_images = test_images - VALIDATION_IMAGES  # every other test image: the MLP reads 9,000 in half a second
st.caption(f"Which images measure what: only the {test_images:,} test images are new to the model. Every 25 steps the "
           f"last {VALIDATION_IMAGES:,} of them are scored (the curves) and the weights that score best are kept; the "
           f"other {measured_images:,} give the accuracy before and after. The card's "
           f"{card['metrics']['accuracy']:.2%} is on all {test_images:,}.")
lr = st.select_slider("Learning rate", options=[1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3], value=3e-5,
                      format_func=lambda v: f"{v:.0e}", key="mlp_lr")
steps = st.slider("Steps", 10, 500, 100, step=10, key="mlp_steps")
n_train = st.slider("Training images", 500, 20000, 2000, step=500, key="mlp_n")


def draw_finetune(events: list[dict]) -> None:
    charts = [("loss", "Training loss (nats per image)"), ("validation_loss", "Validation loss (nats per image)"),
              ("accuracy", "Validation accuracy")]
    for column, (metric, title) in zip(st.columns(3), charts):
        column.plotly_chart(plots.curves(events, [metric], title=title, height=240), key=f"mlp_ft_{metric}")
    final = next((e for e in events if "summary" in e), None)
    if final is not None:
        st.caption(final["summary"])
        for warning in final["warnings"]:
            st.warning(warning)


ui.training_panel("mlp_ft", finetune_classifier,
                  dict(name=NAME, lr=lr, steps=steps, n_train=n_train, n_test=measured_images),
                  download_name=f"{NAME}-finetuned.safetensors", draw=draw_finetune)
