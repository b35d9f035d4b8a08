"""DQN page: watch a deep Q-network balance a pole beside a random policy, see its Q-values and its
Q landscape, change the physics until it fails, fine-tune it live there, and load your own agent."""
from typing import Any

import numpy as np
import streamlit as st

from models.dqn.agent_file import AgentFileError, load_agent
from models.dqn.env import CARTPOLE_PHYSICS
from models.dqn.explore import WORLD_EPISODES, WORLD_SEED, Episode, play_episode, q_grid, world_return
from models.dqn.figures import episode_figure, q_landscape
from models.dqn.recipe import finetune_dqn
from zoo import i18n, plots, ui
from zoo.i18n import t

NAME = "dqn-cartpole"
SLIDERS = {"length": (0.4, 4.0, 0.1, 2), "masspole": (0.05, 2.0, 0.05, 1), "masscart": (0.2, 5.0, 0.1, 1),
           "gravity": (1.0, 30.0, 0.2, 1), "force_mag": (1.0, 30.0, 0.5, 1)}
"""each physics constant's slider: range, step, and the factor from the constant to the slider (Gymnasium's
`length` is half the pole's); its label and unit are dqn.constant.<key>.slider, .changed says a changed value"""


def describe(world: dict[str, float]) -> str:
    """The constants of `world` that differ from CartPole's, as the sliders name them."""
    differs = [t(f"dqn.constant.{key}.changed", value=world[key] * factor)
               for key, (*_, factor) in SLIDERS.items() if not np.isclose(world[key], CARTPOLE_PHYSICS[key])]
    return t("dqn.separator").join(differs) or t("dqn.standard_world")


ui.page_intro(t("dqn.title"), t("dqn.intro"))

model, card = ui.shared_model(NAME)
metrics, env_id = card["metrics"], card["env_id"]
st.caption(t("dqn.card_figures", mean=metrics["mean_return"], std=metrics["std_return"], n=metrics["n"],
             env_id=env_id, lowest=metrics["min_return"], steps=card["steps"], parameters=card["parameters"]))
ui.model_card(card)
with st.expander(t("dqn.curve.expander")):
    st.plotly_chart(plots.curves(card["learning_curve"], ["eval_return", "episode_return"], height=280,
                                 title=t("dqn.curve.title"), x_title=t("dqn.environment_step"),
                                 names={"episode_return": plots.Metric(t("dqn.curve.last_10"),
                                                                       plots.metric("episode_return").axis)}),
                    key="dqn_learning_curve")
    st.caption(t("dqn.curve.caption", every=card["training"]["eval_every"], kept=card["kept_step"]))


def show_episode(episode: Episode, key: str, title: str, half_length: float = 0.5) -> None:
    st.plotly_chart(episode_figure(episode, title, half_length), key=key)


@st.cache_resource(max_entries=64, show_spinner=False)
def shipped_episode(seed: int, world: tuple = (), policy: str = "greedy", language: str = i18n.DEFAULT
                    ) -> tuple[Episode, Any]:
    """The shared agent's (or a random policy's) episode from `seed` in `world` and its animation in `language`,
    kept for every session: a 500-step animation takes a fifth of a second to build."""
    physics = dict(world)
    episode = play_episode(model, env_id, seed, physics, policy)
    title = f"dqn.episode_title.{policy}" + ("_world" if world else "")
    return episode, episode_figure(episode, t(title, seed=seed, ret=episode.ret),
                                   physics.get("length", CARTPOLE_PHYSICS["length"]))


ui.view_in_url("dqn_seed", "dqn_cart_x", "dqn_cart_v")
st.header(t("dqn.watch.header"))
st.markdown(t("dqn.watch.text"))
seed = st.number_input(t("dqn.watch.seed"), 0, 9999, 0, key="dqn_seed")
(agent_run, agent_figure), (random_run, random_figure) = (shipped_episode(int(seed), language=i18n.language()),
                                                          shipped_episode(int(seed), policy="random",
                                                                          language=i18n.language()))
left, right = st.columns(2)
left.metric(t("dqn.watch.agent_return"), i18n.number(agent_run.ret, ".0f"))
left.plotly_chart(agent_figure, key="dqn_episode")
right.metric(t("dqn.watch.random_return"), i18n.number(random_run.ret, ".0f"))
right.plotly_chart(random_figure, key="dqn_random_episode")

st.header(t("dqn.landscape.header"))
st.markdown(t("dqn.landscape.text"))
a, b = st.columns(2)
cart_x = a.slider(t("dqn.landscape.cart_x"), -2.0, 2.0, 0.0, step=0.1, key="dqn_cart_x")
cart_v = b.slider(t("dqn.landscape.cart_v"), -2.0, 2.0, 0.0, step=0.1, key="dqn_cart_v")
thetas, theta_dots = np.linspace(-0.21, 0.21, 61), np.linspace(-2.0, 2.0, 61)
q = q_grid(model, thetas, theta_dots, cart_x, cart_v)
st.plotly_chart(q_landscape(q[..., 1] - q[..., 0], q.max(-1), thetas, theta_dots, agent_run.states),
                key="dqn_landscape")

st.header(t("dqn.physics.header"))
st.markdown(t("dqn.physics.text", n=WORLD_EPISODES))
physics = {key: column.slider(t(f"dqn.constant.{key}.slider"), low, high, CARTPOLE_PHYSICS[key] * factor, step=step,
                              key=f"dqn_{key}") / factor
           for column, (key, (low, high, step, factor)) in zip(st.columns(len(SLIDERS)), SLIDERS.items())}
changed = any(not np.isclose(value, CARTPOLE_PHYSICS[key]) for key, value in physics.items())
EPISODES = dict(n=WORLD_EPISODES, first=WORLD_SEED, last=WORLD_SEED + WORLD_EPISODES - 1)
"""the episodes every mean return on the page is measured on, for the sentences that name them"""


@st.cache_data(show_spinner=False, max_entries=32)
def shipped_world_return(world: tuple) -> float:
    return world_return(model, env_id, dict(world))


world = tuple(sorted(physics.items()))
with st.spinner(t("dqn.physics.playing")):
    shipped_return = shipped_world_return(world)
st.metric(t("dqn.physics.return_yours" if changed else "dqn.physics.return_standard"),
          i18n.number(shipped_return, ".1f"))
st.caption(t("dqn.physics.measured", **EPISODES))
if not changed:
    st.info(t("dqn.physics.move"))
st.markdown(t("dqn.physics.shipped_yours" if changed else "dqn.physics.shipped_standard"))
st.plotly_chart(shipped_episode(int(seed), world, language=i18n.language())[1], key="dqn_world_episode")

st.header(t("dqn.ft.header"))
st.markdown(t("dqn.ft.text"))
a, b, c = st.columns(3)
# the options' labels built here, in the reader's language (a format_func calling i18n later would run where no
# session speaks: AppTest formats a widget's value outside the script run)
step_labels = {n: i18n.number(n) for n in (500, 2000, 5000, 10000, 20000)}
rates = {v: i18n.number(v, ".1e") for v in (1e-4, 3e-4, 1e-3, 2.3e-3)}
epsilons = {v: i18n.number(v, "g") for v in (0.05, 0.1, 0.3, 0.5, 1.0)}
steps = a.select_slider(t("dqn.ft.steps"), list(step_labels), 5000, key="dqn_ft_steps", format_func=step_labels.get)
lr = b.select_slider(t("dqn.ft.lr"), list(rates), 1e-3, format_func=rates.get, key="dqn_ft_lr")
epsilon = c.select_slider(t("dqn.ft.epsilon"), list(epsilons), 0.3, key="dqn_ft_eps", format_func=epsilons.get)


def draw_finetune(events: list[dict]) -> None:
    before = next((e for e in events if "return_before" in e), None)
    after = next((e for e in events if "return_after" in e), None)
    if before is not None:
        x, y = st.columns(2)
        x.metric(t("dqn.ft.before"), i18n.number(before["return_before"], ".1f"))
        if after is not None:
            y.metric(t("dqn.ft.after", step=after["kept_step"]), i18n.number(after["return_after"], ".1f"),
                     delta=i18n.number(after["return_after"] - before["return_before"], "+.1f"))
        if before["physics"] == physics:
            st.caption(t("dqn.ft.measured_here", **EPISODES))
        else:
            st.caption(t("dqn.ft.measured_there", world=describe(before["physics"]), **EPISODES))
    charts = [("returns", ["episode_return", "eval_return"], t("dqn.ft.returns_title")),
              ("epsilon", ["epsilon"], t("dqn.ft.epsilon_title")),
              ("loss", ["loss"], t("dqn.ft.loss_title"))]
    huber = {"loss": plots.Metric(t("dqn.ft.huber"), t("dqn.ft.huber_axis"), plots.LOSS)}
    for col, (name, keys, title) in zip(st.columns(3), charts):
        col.plotly_chart(plots.curves(events, keys, title=title, x_title=t("dqn.environment_step"), names=huber,
                                      height=260), key=f"dqn_ft_{name}")
    replay = next((e["replay"] for e in reversed(events) if "replay" in e), None)
    if replay is not None:
        step = next(e["step"] for e in reversed(events) if "replay" in e)
        tuned_world = next(e["physics"] for e in events if "physics" in e)
        show_episode(Episode(**replay), "dqn_ft_replay", t("dqn.ft.replay_title", step=step, ret=replay["ret"]),
                     tuned_world.get("length", CARTPOLE_PHYSICS["length"]))


tuned = ui.training_panel("dqn_ft", finetune_dqn, dict(name=NAME, physics=physics, steps=steps, lr=lr,
                                                        epsilon=epsilon),
                          metrics=("episode_return", "loss"), draw=draw_finetune,
                          download_name=f"{NAME}-finetuned.safetensors")
if isinstance(tuned, bytes):
    tuned_model, meta = load_agent(tuned)
    st.caption(t("dqn.tuned.caption"))
    show_episode(play_episode(tuned_model, env_id, int(seed), meta["physics"]), "dqn_tuned_episode",
                 t("dqn.tuned.title"), meta["physics"]["length"])


@st.cache_resource(max_entries=4, show_spinner=False)
def uploaded_agent(file_id: str, _payload: bytes, name: str) -> tuple[Any, dict, float]:
    """The uploaded agent, its metadata and its mean return in its world, built and measured once per upload
    (`file_id`), not on every rerun: WORLD_EPISODES episodes side by side, each ended by CartPole at 500 steps."""
    own, meta = load_agent(_payload, name)
    return own, meta, world_return(own, env_id, meta["physics"])


@st.cache_resource(max_entries=16, show_spinner=False)
def uploaded_episode(file_id: str, seed: int, _own: Any, world: dict[str, float], name: str,
                     language: str = i18n.DEFAULT) -> Any:
    """The figure of the uploaded agent's episode from `seed` in its world, in `language`, played once per upload
    and seed."""
    return episode_figure(play_episode(_own, env_id, seed, world), t("dqn.own.title", name=name), world["length"])


st.header(t("dqn.own.header"))
upload = st.file_uploader(t("dqn.own.label"), type=["safetensors"], key="dqn_upload")
if upload is None:
    st.info(t("dqn.own.info"))
else:
    try:
        with st.spinner(t("dqn.own.playing")):
            own, meta, own_return = uploaded_agent(upload.file_id, upload.getvalue(), upload.name)
    except AgentFileError as error:
        st.error(str(error))
    else:
        own_world = meta["physics"]
        st.success(t("dqn.own.loaded", file=upload.name, shape="x".join(map(str, own.config.hidden)),
                     base=meta["base"], world=describe(own_world)))
        st.metric(t("dqn.own.return"), i18n.number(own_return, ".1f"))
        st.caption(t("dqn.own.measured", **EPISODES))
        st.plotly_chart(uploaded_episode(upload.file_id, int(seed), own, own_world, upload.name, i18n.language()),
                        key="dqn_own_episode")
