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
from zoo import plots, ui

NAME = "dqn-cartpole"
SLIDERS = {"length": ("Pole length", "m", 0.4, 4.0, 0.1, 2), "masspole": ("Pole mass", "kg", 0.05, 2.0, 0.05, 1),
           "masscart": ("Cart mass", "kg", 0.2, 5.0, 0.1, 1), "gravity": ("Gravity", "m/s²", 1.0, 30.0, 0.2, 1),
           "force_mag": ("Push", "N", 1.0, 30.0, 0.5, 1)}
"""each physics constant's slider: name, unit, range, step, and the factor from the constant to the slider
(Gymnasium's `length` is half the pole's)"""


def describe(world: dict[str, float]) -> str:
    """The constants of `world` that differ from CartPole's, as the sliders name them."""
    differs = [f"{name.lower()} {world[key] * factor:g} {unit}" for key, (name, unit, *_, factor) in SLIDERS.items()
               if not np.isclose(world[key], CARTPOLE_PHYSICS[key])]
    return ", ".join(differs) or "the standard world"


ui.page_intro(
    "Deep Q-network (DQN)",
    "A cart can be pushed left or right, and a pole stands hinged on it: keep the pole up and the cart on the "
    "track, and every step earns 1, up to 500. A deep Q-network (Mnih et al. 2015) learns, by trial and error "
    "alone, a *Q-value* for each push in each state: how much it expects to collect from there if it pushes "
    "that way and plays well afterwards. It then simply takes the push with the higher Q. It learns from a "
    "*replay buffer* of past steps, against targets from a slowly updated copy of itself; this one uses the "
    "double-DQN target (van Hasselt et al. 2016), which stops it from fooling itself with lucky overestimates.")

model, card = ui.shared_model(NAME)
metrics, env_id = card["metrics"], card["env_id"]
st.caption(f"Mean return **{metrics['mean_return']:.1f}** ± {metrics['std_return']:.1f} over {metrics['n']} seeded "
           f"greedy episodes of {env_id} (500 is perfect; lowest {metrics['min_return']:.0f}) · trained for "
           f"{card['steps']:,} environment steps · {card['parameters']:,} parameters")
ui.model_card(card)
with st.expander("How it learned: the learning curve"):
    st.plotly_chart(plots.curves(card["learning_curve"], ["eval_return", "episode_return"], height=280,
                                 title="Return while it learned", x_title="environment step",
                                 names={"episode_return": plots.Metric("last 10 training episodes (exploring)",
                                                                       plots.metric("episode_return").axis)}),
                    key="dqn_learning_curve")
    st.caption(f"Greedy evaluations: the mean return of greedy episodes every {card['training']['eval_every']:,} "
               "steps; training episodes: the mean of the last 10, with exploration. "
               f"DQN on CartPole is famously unstable, so the card keeps the "
               f"best evaluated weights, those of step {card['kept_step']:,}.")


def show_episode(episode: Episode, key: str, title: str, half_length: float = 0.5) -> None:
    st.plotly_chart(episode_figure(episode, title, half_length), key=key)


@st.cache_resource(max_entries=64, show_spinner=False)
def shipped_episode(seed: int, world: tuple = (), policy: str = "greedy") -> tuple[Episode, Any]:
    """The shared agent's (or a random policy's) episode from `seed` in `world` and its animation, kept
    for every session: a 500-step animation takes a fifth of a second to build."""
    physics = dict(world)
    episode = play_episode(model, env_id, seed, physics, policy)
    who = "A random policy" if policy == "random" else "The agent"
    where = " in the world set above" if world else ""
    return episode, episode_figure(episode, f"{who}{where}, seed {seed}: return {episode.ret:.0f}",
                                   physics.get("length", CARTPOLE_PHYSICS["length"]))


ui.view_in_url("dqn_seed", "dqn_cart_x", "dqn_cart_v")
st.header("1. Watch an episode")
st.markdown("Press **Play**. Above, the cart and pole as the physics moves them (the arrow is the push); below, the "
            "agent's two Q-values at every step, the dots marking the push it chose, the dotted line the step "
            "shown. On the right, a policy that pushes at random, with the agent's Q-values for the states it "
            "reaches: watch them fall as the pole does.")
seed = st.number_input("Episode seed (the starting state)", 0, 9999, 0, key="dqn_seed")
(agent_run, agent_figure), (random_run, random_figure) = (shipped_episode(int(seed)),
                                                          shipped_episode(int(seed), policy="random"))
left, right = st.columns(2)
left.metric("The agent's return", f"{agent_run.ret:.0f}")
left.plotly_chart(agent_figure, key="dqn_episode")
right.metric("A random policy's return", f"{random_run.ret:.0f}")
right.plotly_chart(random_figure, key="dqn_random_episode")

st.header("2. Inside: the Q landscape")
st.markdown("The agent's Q-values over every pole angle and angular velocity, with the cart where and as fast as you say. "
            "Left: red where it would push right, blue where left; the boundary between them is its policy. Right: "
            "the return it expects. The green line is the episode above.")
a, b = st.columns(2)
cart_x = a.slider("Cart position (m)", -2.0, 2.0, 0.0, step=0.1, key="dqn_cart_x")
cart_v = b.slider("Cart velocity (m/s)", -2.0, 2.0, 0.0, step=0.1, key="dqn_cart_v")
thetas, theta_dots = np.linspace(-0.21, 0.21, 61), np.linspace(-2.0, 2.0, 61)
q = q_grid(model, thetas, theta_dots, cart_x, cart_v)
st.plotly_chart(q_landscape(q[..., 1] - q[..., 0], q.max(-1), thetas, theta_dots, agent_run.states),
                key="dqn_landscape")

st.header("3. Change the physics")
st.markdown("The agent learned one world. Make the pole longer, the cart heavier, gravity stronger or the push weaker, and "
            f"see whether what it learned still holds: its mean return on {WORLD_EPISODES} episodes is measured in "
            "your world.")
physics = {key: column.slider(f"{name} ({unit})", low, high, CARTPOLE_PHYSICS[key] * factor, step=step,
                              key=f"dqn_{key}") / factor
           for column, (key, (name, unit, low, high, step, factor)) in zip(st.columns(len(SLIDERS)), SLIDERS.items())}
changed = any(not np.isclose(value, CARTPOLE_PHYSICS[key]) for key, value in physics.items())
EPISODES = f"the same {WORLD_EPISODES} greedy episodes (seeds {WORLD_SEED:,} to {WORLD_SEED + WORLD_EPISODES - 1:,})"


@st.cache_data(show_spinner="Playing episodes in your world…", max_entries=32)
def shipped_world_return(world: tuple) -> float:
    return world_return(model, env_id, dict(world))


world = tuple(sorted(physics.items()))
st.metric(f"The agent's mean return in {'your' if changed else 'the standard'} world",
          f"{shipped_world_return(world):.1f}")
st.caption(f"Measured on {EPISODES} as the fine-tune's *before* and *after* below.")
if not changed:
    st.info("Move a slider. It copes with much (a heavy pole, strong gravity); try a 3 m pole, a 5 kg cart or a "
            "push of 2 N.")
st.markdown(f"**The shipped agent in {'your' if changed else 'the standard'} world**, from the same start as above:")
st.plotly_chart(shipped_episode(int(seed), world)[1], key="dqn_world_episode")

st.header("4. Fine-tune it in your world")
st.markdown("Let a private copy go on learning in the world above (the shared agent stays as it is). It explores "
            "with a chance *epsilon* of a random push that falls as it trains, trains 128 gradient steps on its "
            "replay buffer every 256 environment steps, and plays the latest episode back as it goes. DQN can "
            "unlearn as fast as it learns, so every 1,000 steps it plays 10 greedy episodes (other ones than "
            "the figures') and keeps the best weights so far, the start's included.")
a, b, c = st.columns(3)
steps = a.select_slider("Environment steps", [500, 2000, 5000, 10000, 20000], 5000, key="dqn_ft_steps")
lr = b.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 2.3e-3], 1e-3, format_func=lambda v: f"{v:.1e}",
                     key="dqn_ft_lr")
epsilon = c.select_slider("Starting epsilon", [0.05, 0.1, 0.3, 0.5, 1.0], 0.3, key="dqn_ft_eps")


def draw_finetune(events: list[dict]) -> None:
    before = next((e for e in events if "return_before" in e), None)
    after = next((e for e in events if "return_after" in e), None)
    if before is not None:
        x, y = st.columns(2)
        x.metric("Mean return before fine-tuning", f"{before['return_before']:.1f}")
        if after is not None:
            y.metric(f"after (the weights of step {after['kept_step']:,})", f"{after['return_after']:.1f}",
                     delta=f"{after['return_after'] - before['return_before']:+.1f}")
        where = ("the world above: *before* is the figure shown there" if before["physics"] == physics
                 else f"the world set when it started ({describe(before['physics'])}), not the one above now")
        st.caption(f"Both measured on {EPISODES} as in section 3, in {where}.")
    charts = [("returns", ["episode_return", "eval_return"], "Return per episode"),
              ("epsilon", ["epsilon"], "Exploration: epsilon"),
              ("loss", ["loss"], "Loss per training burst")]
    huber = {"loss": plots.Metric("Huber loss", "Huber loss of the Q-values", plots.LOSS)}
    for col, (name, keys, title) in zip(st.columns(3), charts):
        col.plotly_chart(plots.curves(events, keys, title=title, x_title="environment step", names=huber, height=260),
                         key=f"dqn_ft_{name}")
    replay = next((e["replay"] for e in reversed(events) if "replay" in e), None)
    if replay is not None:
        step = next(e["step"] for e in reversed(events) if "replay" in e)
        tuned_world = next(e["physics"] for e in events if "physics" in e)
        show_episode(Episode(**replay), "dqn_ft_replay",
                     f"The latest training episode, ended at step {step:,}: return {replay['ret']:.0f}",
                     tuned_world.get("length", CARTPOLE_PHYSICS["length"]))


tuned = ui.training_panel("dqn_ft", finetune_dqn, dict(name=NAME, physics=physics, steps=steps, lr=lr,
                                                        epsilon=epsilon),
                          metrics=("episode_return", "loss"), draw=draw_finetune,
                          download_name=f"{NAME}-finetuned.safetensors")
if isinstance(tuned, bytes):
    tuned_model, meta = load_agent(tuned)
    st.caption("The download is your agent: upload it below, here or on another day, to watch it again.")
    show_episode(play_episode(tuned_model, env_id, int(seed), meta["physics"]), "dqn_tuned_episode",
                 "Your fine-tuned agent in the world it learned", meta["physics"]["length"])


@st.cache_resource(max_entries=4, show_spinner="Playing your agent's episodes…")
def uploaded_agent(file_id: str, _payload: bytes, name: str) -> tuple[Any, dict, float]:
    """The uploaded agent, its metadata and its mean return in its world, built and measured once per upload
    (`file_id`), not on every rerun: WORLD_EPISODES episodes side by side, each ended by CartPole at 500 steps."""
    own, meta = load_agent(_payload, name)
    return own, meta, world_return(own, env_id, meta["physics"])


@st.cache_resource(max_entries=16, show_spinner=False)
def uploaded_episode(file_id: str, seed: int, _own: Any, world: dict[str, float], name: str) -> Any:
    """The figure of the uploaded agent's episode from `seed` in its world, played once per upload and seed."""
    return episode_figure(play_episode(_own, env_id, seed, world), f"{name} in the world it learned", world["length"])


st.header("5. Your own agent")
upload = st.file_uploader("An agent file you downloaded from this page (.safetensors)", type=["safetensors"],
                          key="dqn_upload")
if upload is None:
    st.info("Fine-tune an agent above and download it; upload it here to watch it play in the world it learned.")
else:
    try:
        own, meta, own_return = uploaded_agent(upload.file_id, upload.getvalue(), upload.name)
    except AgentFileError as error:
        st.error(str(error))
    else:
        own_world = meta["physics"]
        st.success(f"Loaded {upload.name}: a {'x'.join(map(str, own.config.hidden))} Q-network, fine-tuned from "
                   f"{meta['base']} in {describe(own_world)}.")
        st.metric("Its mean return in its world", f"{own_return:.1f}")
        st.caption(f"On {EPISODES} as every mean return on this page.")
        st.plotly_chart(uploaded_episode(upload.file_id, int(seed), own, own_world, upload.name),
                        key="dqn_own_episode")
