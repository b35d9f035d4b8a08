"""GAN page: watch a generator and a discriminator play their game on points in the plane, then
sample, interpolate, judge and fine-tune a class-conditional DCGAN that makes garments."""
import streamlit as st

from models.gan import explore, figures, toy_game
from models.gan.recipe import finetune_gan
from zoo import i18n, jobs, plots, ui
from zoo.data import fashion_mnist
from zoo.i18n import t

NAME = "dcgan-fashion"
POLL_SECONDS = 0.5  # DESIGN: a live fragment redraws at most twice a second
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
CLASSES = fashion_mnist.CLASSES
"""the classes' own (English) names: the class widgets' stable values, shown through class_name"""
TARGET_CODES = {"Ring of 8 gaussians": "ring", "Spiral": "spiral", "Two moons": "moons"}
"""the toy targets (toy_game.TARGETS' keys, the widget's values) -> their catalogue keys"""

ui.page_intro(t("gan.title"), t("gan.intro"))
# what the widgets show for their values, in the reader's language: looked up, so that a widget's label of a value
# is the one this run wrote
class_names = dict(zip(CLASSES, fashion_mnist.class_names()))
class_name = class_names.__getitem__
class_choice = {"Every class": t("gan.dcgan.every_class"), **class_names}.__getitem__
target_name = {target: t(f"gan.target.{code}") for target, code in TARGET_CODES.items()}.__getitem__


def _rate(column, key: str, label: str) -> float:
    return column.select_slider(label, LEARNING_RATES, 1e-3, format_func=lambda v: i18n.number(v, ".0e"), key=key)


def _start(game: toy_game.ToyGame, settings: toy_game.GANSettings) -> None:
    try:
        game.start(jobs.get_runner(), ui.job_session(), settings)
    except jobs.JobLimitError as error:
        st.session_state["gan_error"] = str(error)


def _board() -> None:
    """Metrics, the plane and the curves of the session's toy GAN."""
    game: toy_game.ToyGame = st.session_state["gan_toy_game"]
    status = game.poll(jobs.get_runner())
    view = game.view()
    if status is not None and status.state == "queued":
        st.info(t("gan.board.queued", position=status.position))
    cols = st.columns(5)
    cols[0].metric(t("gan.board.step"), i18n.number(game.step))
    cols[1].metric(t("gan.board.d_loss"), i18n.number(view["d_loss"], ".3f") if "d_loss" in view else "–",
                   help=t("gan.board.d_loss_help", log4=1.386))
    cols[2].metric(t("gan.board.g_loss"), i18n.number(view["g_loss"], ".3f") if "g_loss" in view else "–",
                   help=t("gan.board.g_loss_help", log2=0.693))
    cols[3].metric(t("gan.board.modes"), f"{view['modes_covered']} / {len(game.target.centres)}",
                   help=t("gan.board.modes_help", share=toy_game.COVERED_SHARE))
    cols[4].metric(t("gan.board.on_data"), i18n.number(view["on_data"], ".0%"),
                   help=t("gan.board.on_data_help", distance=toy_game.ON_DATA))
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.toy_game_frame(view, game.target.points, game.target.centres, toy_game.BOUNDS),
                      key="gan_plane")
    if game.history:
        right.plotly_chart(plots.curves(game.history, ["d_loss", "g_loss"], title=t("gan.losses_title"), height=250),
                           key="gan_losses")
        right.plotly_chart(plots.curves(game.history, ["modes_covered"], height=220,
                                        title=t("gan.board.modes_title", k=len(game.target.centres))), key="gan_modes")
    else:
        right.info(t("gan.board.no_curves"))
    if status is not None and status.finished:
        st.rerun()  # the whole page: the buttons change back


_live_board = st.fragment(run_every=POLL_SECONDS)(_board)


@st.fragment
def game_section() -> None:
    """Target and training controls, the buttons and the board; reruns on its own."""
    st.header(t("gan.game.header"))
    st.markdown(t("gan.game.text"))
    a, b, c, d = st.columns(4)
    name = a.selectbox(t("gan.game.target"), list(toy_game.TARGETS), key="gan_target",
                       format_func=target_name)
    settings = toy_game.GANSettings(g_lr=_rate(b, "gan_g_lr", t("gan.g_lr")),
                                    d_lr=_rate(c, "gan_d_lr", t("gan.d_lr")),
                                    d_steps=d.select_slider(t("gan.d_steps"), [1, 2, 3, 5], 1, key="gan_d_steps"))
    runner = jobs.get_runner()
    game = st.session_state.get("gan_toy_game")
    if game is None or game.target.name != name:
        if game is not None:
            game.pause(runner)
        game = st.session_state["gan_toy_game"] = toy_game.ToyGame(target=toy_game.make_target(name))
    if game.running and game.settings != settings:
        game.pause(runner)  # new learning rates or D steps: go on with them at once
        _start(game, settings)
    buttons = st.columns([1, 1, 1, 4])
    if buttons[0].button(t("gan.game.start"), key="gan_start", icon=":material/play_arrow:", type="primary",
                         disabled=game.running):
        _start(game, settings)
        st.rerun()
    if buttons[1].button(t("gan.game.pause"), key="gan_pause", icon=":material/pause:", disabled=not game.running):
        game.pause(runner)
        st.rerun()
    if buttons[2].button(t("gan.game.reset"), key="gan_reset", icon=":material/restart_alt:",
                          help=t("gan.game.reset_help")):
        game.pause(runner)
        st.session_state["gan_toy_game"] = toy_game.ToyGame(target=game.target, seed=game.seed + 1)
        st.rerun()
    if error := st.session_state.pop("gan_error", None):
        st.error(error)
    elif game.notice:
        st.info(game.notice)
    (_live_board if game.running else _board)()
    with st.expander(t("gan.game.try_header")):
        st.markdown(t("gan.game.try"))


ui.view_in_url("gan_target", "gan_d_steps", "gan_seed", "gan_class", "gan_from_seed", "gan_to_seed")
game_section()

st.header(t("gan.dcgan.header"))
model, card = ui.shared_model(NAME)
st.markdown(t("gan.dcgan.text", noise=model.config.noise_dim))
m = card["metrics"]
st.caption(t("gan.dcgan.card_summary", n=m["fid_samples"], fid=m["fid"], floor=m["fid_real_floor"],
             covered=m["classes_covered"], parameters=card["parameters"]))
ui.model_card(card)
a, b = st.columns(2)
seed = a.number_input(t("gan.dcgan.seed"), 0, 10_000, 0, key="gan_seed")
chosen = b.selectbox(t("gan.class"), ["Every class", *CLASSES], key="gan_class",
                     format_func=class_choice)
label = None if chosen == "Every class" else CLASSES.index(chosen)
st.plotly_chart(plots.image_grid(explore.sample_grid(model, int(seed), label),
                                 title=t("gan.dcgan.samples_title", n=40, seed=int(seed)),
                                 cols=10, height_per_row=75, colorscale="gray", zrange=(0, 1), gap=0.003),
                key="gan_samples")
st.caption(t("gan.dcgan.every_caption") if label is None else
           t("gan.dcgan.class_caption", n=40, name=class_name(chosen)))

st.header(t("gan.walk.header"))
st.markdown(t("gan.walk.text"))
a, b, c, d = st.columns(4)
seeds = (a.number_input(t("gan.walk.from_seed"), 0, 10_000, 0, key="gan_from_seed"),
         c.number_input(t("gan.walk.to_seed"), 0, 10_000, 1, key="gan_to_seed"))
classes = (b.selectbox(t("gan.walk.from_class"), CLASSES, index=7, format_func=class_name, key="gan_from_class"),
           d.selectbox(t("gan.walk.to_class"), CLASSES, index=9, format_func=class_name, key="gan_to_class"))
walk = explore.interpolate(model, (int(seeds[0]), int(seeds[1])), tuple(CLASSES.index(c) for c in classes), 24)
st.plotly_chart(plots.animation(walk, [i18n.number(i / 23, ".0%") for i in range(24)],
                                title=t("gan.walk.title", first=class_name(classes[0]), first_seed=int(seeds[0]),
                                        second=class_name(classes[1]), second_seed=int(seeds[1]))),
                key="gan_walk")

st.header(t("gan.judge.header"))
st.markdown(t("gan.judge.text"))


@st.cache_resource(show_spinner=False)
def score_reference() -> explore.ScoreReference:
    """D's scores of real test images and of G's samples, class by class: the same for every session."""
    test = fashion_mnist.load("test") if fashion_mnist.is_installed() else fashion_mnist.load_sample()
    return explore.score_reference(ui.shared_model(NAME)[0], test.floats(), test.labels)


image, caption = ui.fashion_image_input("gan")
if image is not None:
    asked = st.selectbox(t("gan.judge.ask"), CLASSES, index=CLASSES.index("Ankle boot"), format_func=class_name,
                         key="gan_judge_class", help=t("gan.judge.ask_help"))
    with st.spinner(t("gan.judge.spinner")):
        reference = score_reference()
    label = CLASSES.index(asked)
    score = explore.judge(model, image, label)
    real_below, generated_below = reference.shares_below(score, label)
    left, right = st.columns([1, 2])
    left.plotly_chart(plots.image(image[0].numpy(), t("gan.judge.seen")), key="gan_seen")
    left.caption(caption)
    right.subheader(t("gan.judge.verdict", name=class_name(asked), real=real_below, generated=generated_below))
    right.plotly_chart(figures.score_histograms(reference.real[label], reference.generated[label], score,
                                                class_name(asked)), key="gan_verdict")
    st.caption(t("gan.judge.caption", score=score, name=class_name(asked), separability=reference.separability(label),
                 coin=0.5, own=reference.own_class_top, guess=0.1))

st.header(t("gan.finetune.header"))
st.markdown(t("gan.finetune.text", n=2000, every=10))
a, b, c, d = st.columns(4)
g_lr = a.select_slider(t("gan.g_lr"), [5e-5, 1e-4, 2e-4, 5e-4, 1e-3], 2e-4,
                       format_func=lambda v: i18n.number(v, ".0e"), key="gan_ft_g_lr")
d_lr = b.select_slider(t("gan.d_lr"), [5e-5, 1e-4, 2e-4, 5e-4, 1e-3], 2e-4,
                       format_func=lambda v: i18n.number(v, ".0e"), key="gan_ft_d_lr")
d_steps = c.select_slider(t("gan.d_steps"), [1, 2, 3], 1, key="gan_ft_d_steps")
steps = d.slider(t("gan.steps"), 10, 300, 100, step=10, key="gan_ft_steps")


def draw_finetune(events: list[dict]) -> None:
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["d_loss", "g_loss"], title=t("gan.losses_title"), height=260),
                      key="gan_ft_losses")
    right.plotly_chart(plots.curves(events, ["d_real", "d_fake"], title=t("gan.finetune.verdict_title"),
                                    height=260), key="gan_ft_scores")
    last = next((e for e in reversed(events) if "samples" in e), None)
    if last is not None:
        st.plotly_chart(plots.image_grid(last["samples"] / 255.0, title=t("gan.finetune.samples_title",
                                                                              step=last["step"]), cols=10, height_per_row=75, colorscale="gray",
                                         zrange=(0, 1), gap=0.003), key="gan_ft_samples")


ui.training_panel("gan_ft", finetune_gan,
                  dict(name=NAME, steps=steps, g_lr=g_lr, d_lr=d_lr, d_steps=d_steps), metrics=("d_loss", "g_loss"),
                  draw=draw_finetune, download_name=f"{NAME}-finetuned.safetensors")
