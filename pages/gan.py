"""GAN page: watch a generator and a discriminator play their game on points in the plane, then
sample, interpolate, judge and fine-tune a class-conditional DCGAN that makes garments."""
import streamlit as st

from models.gan import explore, figures, toy_game
from models.gan.recipe import finetune_gan
from zoo import jobs, plots, ui
from zoo.data import fashion_mnist

NAME = "dcgan-fashion"
POLL_SECONDS = 0.5  # DESIGN: a live fragment redraws at most twice a second
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
CLASSES = fashion_mnist.CLASSES

ui.page_intro(
    "Generative adversarial network (GAN)",
    "A GAN (Goodfellow et al. 2014) trains two networks against each other: a generator G turns random "
    "noise into samples, and a discriminator D learns to tell those samples from real data. Each gets "
    "better by beating the other, until G's samples are hard to tell from the real thing; watch the game "
    "on points in the plane first, then play with a GAN that makes garments.")


def _rate(column, key: str, label: str) -> float:
    return column.select_slider(label, LEARNING_RATES, 1e-3, format_func=lambda v: f"{v:.0e}", key=key)


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
        st.info(f"Waiting for a free training slot: number {status.position} in the queue.")
    cols = st.columns(5)
    cols[0].metric("Step", f"{game.step:,}")
    cols[1].metric("D loss", f"{view['d_loss']:.3f}" if "d_loss" in view else "–",
                   help="D's loss on real and generated points; log 4 = 1.386 when it cannot tell them apart")
    cols[2].metric("G loss", f"{view['g_loss']:.3f}" if "g_loss" in view else "–",
                   help="how sure D is that G's points are fake; log 2 = 0.693 when D gives them even odds")
    cols[3].metric("Modes covered", f"{view['modes_covered']} / {len(game.target.centres)}",
                   help=f"a mode counts when at least {toy_game.COVERED_SHARE:.0%} of its fair share of G's points "
                        "land on it")
    cols[4].metric("Points on the data", f"{view['on_data']:.0%}",
                   help=f"G's points within {toy_game.ON_DATA:g} of a real point")
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.toy_game_frame(view, game.target.points, game.target.centres, toy_game.BOUNDS),
                      key="gan_plane")
    if game.history:
        right.plotly_chart(plots.curves(game.history, ["d_loss", "g_loss"], title="D's and G's losses", height=250),
                           key="gan_losses")
        right.plotly_chart(plots.curves(game.history, ["modes_covered"], height=220,
                                        title=f"Modes covered, of {len(game.target.centres)}"), key="gan_modes")
    else:
        right.info("The loss curves appear once it trains: press **Start**.")
    if status is not None and status.finished:
        st.rerun()  # the whole page: the buttons change back


_live_board = st.fragment(run_every=POLL_SECONDS)(_board)


@st.fragment
def game_section() -> None:
    """Target and training controls, the buttons and the board; reruns on its own."""
    st.header("1. The game, in two dimensions")
    st.markdown(
        "The green dots are real data; the purple dots are what G makes of a fixed set of noise points. The "
        "background is D's verdict over the plane: green where it says *real*, purple where it says *fake*. "
        "The arrows show G's gradient: each generated point is pushed uphill on D's surface, towards where D "
        "currently believes real data lives. The circles mark the modes of the real data; a red one is "
        "missed, and G that covers few of them has **collapsed** onto part of the data.")
    a, b, c, d = st.columns(4)
    name = a.selectbox("Real data", list(toy_game.TARGETS), key="gan_target")
    settings = toy_game.GANSettings(g_lr=_rate(b, "gan_g_lr", "G's learning rate"),
                                    d_lr=_rate(c, "gan_d_lr", "D's learning rate"),
                                    d_steps=d.select_slider("D steps per G step", [1, 2, 3, 5], 1, key="gan_d_steps"))
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
    if buttons[0].button("Start", key="gan_start", icon=":material/play_arrow:", type="primary",
                         disabled=game.running):
        _start(game, settings)
        st.rerun()
    if buttons[1].button("Pause", key="gan_pause", icon=":material/pause:", disabled=not game.running):
        game.pause(runner)
        st.rerun()
    if buttons[2].button("Reset", key="gan_reset", icon=":material/restart_alt:", help="fresh random G and D"):
        game.pause(runner)
        st.session_state["gan_toy_game"] = toy_game.ToyGame(target=game.target, seed=game.seed + 1)
        st.rerun()
    if error := st.session_state.pop("gan_error", None):
        st.error(error)
    elif game.notice:
        st.info(game.notice)
    (_live_board if game.running else _board)()
    with st.expander("Things to try"):
        st.markdown(
            "- With the defaults on the **ring**, D first draws a boundary, then the arrows drag G's points across "
            "it onto the ring; after a few hundred steps G usually covers all 8 modes.\n"
            "- Make **G faster than D**: G's learning rate 3e-3, or D's 1e-4. G's points pile up wherever D "
            "currently says *real*, D learns that spot is fake, and the pile moves on: the count of modes "
            "covered stays at 0 or 1. That is mode collapse.\n"
            "- A G learning rate of **1e-2** is too large: its points overshoot and never settle on the data.\n"
            "- Give D **5 steps per G step**: D pulls ahead (its loss falls well below 1.386 while G's rises) "
            "and G covers the ring more slowly.\n"
            "- **Spiral** and **Two moons** have no separate clusters: their modes are stretches of the shape "
            "found by k-means, and G has to spread along the whole curve to cover them.")


ui.view_in_url("gan_target", "gan_d_steps", "gan_seed", "gan_class", "gan_from_seed", "gan_to_seed")
game_section()

st.header("2. A DCGAN that makes garments")
model, card = ui.shared_model(NAME)
st.markdown(
    f"The same game at scale: G is a stack of transposed convolutions that paints a 28x28 image from "
    f"{model.config.noise_dim} numbers of noise (Radford et al. 2016), and D is a convolutional network. Both "
    "are told the class: G gets a learned embedding of it beside the noise, so you can ask for a sneaker.")
m = card["metrics"]
st.caption(f"FID of {m['fid_samples']:,} samples **{m['fid']:.1f}** (real images score {m['fid_real_floor']:.2f}; "
           f"lower is better) · {m['classes_covered']} of 10 classes covered · {card['parameters']:,} parameters")
ui.model_card(card)
a, b = st.columns(2)
seed = a.number_input("Seed (the noise)", 0, 10_000, 0, key="gan_seed")
chosen = b.selectbox("Class", ["Every class", *CLASSES], key="gan_class")
label = None if chosen == "Every class" else CLASSES.index(chosen)
st.plotly_chart(plots.image_grid(explore.sample_grid(model, int(seed), label), title=f"40 samples of seed {seed}",
                                 cols=10, height_per_row=75, colorscale="gray", zrange=(0, 1), gap=0.003),
                key="gan_samples")
st.caption("Each column is one class in turn." if label is None else f"40 {chosen} samples from 40 noise vectors.")

st.header("3. A walk through the latent space")
st.markdown("Pick two noise vectors (by seed) and two classes; G paints every point on the way between them. "
            "The noise moves along a great circle, which keeps it looking like noise to G, and the class "
            "embedding slides from one class to the other. Press **Play**.")
a, b, c, d = st.columns(4)
seeds = (a.number_input("From seed", 0, 10_000, 0, key="gan_from_seed"),
         c.number_input("To seed", 0, 10_000, 1, key="gan_to_seed"))
classes = (b.selectbox("From class", CLASSES, index=7, key="gan_from_class"),
           d.selectbox("To class", CLASSES, index=9, key="gan_to_class"))
walk = explore.interpolate(model, (int(seeds[0]), int(seeds[1])), tuple(CLASSES.index(c) for c in classes), 24)
st.plotly_chart(plots.animation(walk, [f"{t:.0%}" for t in (i / 23 for i in range(24))],
                                title=f"From a {classes[0]} (seed {seeds[0]}) to a {classes[1]} (seed {seeds[1]})"),
                key="gan_walk")

st.header("4. What D thinks of your image")
st.markdown("D learned one thing: to tell the real training images of a class from G's fakes of that class. Ask it "
            "whether your image is a real garment of some class, and its answer, a probability, means little on "
            "its own: near the end of training G's fakes are good enough that D scores real and fake images "
            "about alike. So the page puts your image's score among D's scores of real test images of that class "
            "and of G's samples of it.")


@st.cache_resource(show_spinner="Scoring real and generated images with D (once)…")
def score_reference() -> explore.ScoreReference:
    """D's scores of real test images and of G's samples, class by class: the same for every session."""
    test = fashion_mnist.load("test") if fashion_mnist.is_installed() else fashion_mnist.load_sample()
    return explore.score_reference(ui.shared_model(NAME)[0], test.floats(), test.labels)


image, caption = ui.fashion_image_input("gan")
if image is not None:
    asked = st.selectbox("Ask D: is it a real …", CLASSES, index=CLASSES.index("Ankle boot"), key="gan_judge_class",
                         help="D needs a class to judge against; pick the one your garment is")
    label, reference = CLASSES.index(asked), score_reference()
    score = explore.judge(model, image, label)
    real_below, generated_below = reference.shares_below(score, label)
    left, right = st.columns([1, 2])
    left.plotly_chart(plots.image(image[0].numpy(), "What D sees (28x28)"), key="gan_seen")
    left.caption(caption)
    right.subheader(f"As a real {asked}, D scores it above {real_below:.0%} of real ones and "
                    f"{generated_below:.0%} of G's")
    right.plotly_chart(figures.score_histograms(reference.real[label], reference.generated[label], score, asked),
                       key="gan_verdict")
    st.caption(f"D's score for your image: {score:.1%}. On these images D scores a real {asked} above one of G's "
               f"{reference.separability(label):.0%} of the time (50% would be a coin toss): that is all D knows. It "
               f"does not know what a garment is: asked about every class, it gives its highest score to the image's "
               f"own class for {reference.own_class_top:.0%} of real test images, where a blind guess gets 10%, "
               "so the page does not ask it which class your image is.")

st.header("5. Fine-tune it: watch G and D train")
st.markdown("Go on training a private copy on 2,000 training images; the shared model stays as it is. The curves "
            "are the two losses and D's average verdict on real and on generated images; the samples, from fixed "
            "noise, are redrawn every 10 steps.")
a, b, c, d = st.columns(4)
g_lr = a.select_slider("G's learning rate", [5e-5, 1e-4, 2e-4, 5e-4, 1e-3], 2e-4, format_func=lambda v: f"{v:.0e}",
                       key="gan_ft_g_lr")
d_lr = b.select_slider("D's learning rate", [5e-5, 1e-4, 2e-4, 5e-4, 1e-3], 2e-4, format_func=lambda v: f"{v:.0e}",
                       key="gan_ft_d_lr")
d_steps = c.select_slider("D steps per G step", [1, 2, 3], 1, key="gan_ft_d_steps")
steps = d.slider("Steps", 10, 300, 100, step=10, key="gan_ft_steps")


def draw_finetune(events: list[dict]) -> None:
    left, right = st.columns(2)
    left.plotly_chart(plots.curves(events, ["d_loss", "g_loss"], title="D's and G's losses", height=260),
                      key="gan_ft_losses")
    right.plotly_chart(plots.curves(events, ["d_real", "d_fake"], title="D's verdict on real and generated images",
                                    height=260), key="gan_ft_scores")
    last = next((e for e in reversed(events) if "samples" in e), None)
    if last is not None:
        st.plotly_chart(plots.image_grid(last["samples"] / 255.0, title=f"Step {last['step']}: two samples of each "
                                         "class from fixed noise", cols=10, height_per_row=75, colorscale="gray",
                                         zrange=(0, 1), gap=0.003), key="gan_ft_samples")


ui.training_panel("gan_ft", finetune_gan,
                  dict(name=NAME, steps=steps, g_lr=g_lr, d_lr=d_lr, d_steps=d_steps), metrics=("d_loss", "g_loss"),
                  draw=draw_finetune, download_name=f"{NAME}-finetuned.safetensors")
