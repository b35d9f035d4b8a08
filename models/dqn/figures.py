"""CartPole drawn from its state with Plotly, no display needed (Gymnasium's renderer needs pygame):
an episode as an animation whose cart and pole move in step with a cursor on the chart of both
actions' Q-values, and the Q landscape over pole angle and angular velocity as heat maps."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.dqn.env import action_names
from models.dqn.explore import Episode
from zoo.i18n import t
from zoo.plots import ACCENT, PALETTE, SECOND, TITLE_MARGIN, integer_ticks, title_layout

X_LIMIT = 2.4
"""the cart fails past this position (m)"""
CART_W, CART_H = 0.5, 0.3
ACTION_COLORS = (PALETTE[2], PALETTE[3])
TAU_MS = 20
"""CartPole's time step: one frame per step plays it in real time"""
DARK = "#2D3436"


def _cart_pole(state: np.ndarray, half_length: float, action: int | None) -> list[tuple[list[float], list[float]]]:
    """(xs, ys) of the cart's outline, the pole, and the arrow of the push, in metres."""
    x, theta = float(state[0]), float(state[2])
    left, right = x - CART_W / 2, x + CART_W / 2
    cart = ([left, right, right, left, left], [0, 0, CART_H, CART_H, 0])
    tip = (x + 2 * half_length * np.sin(theta), CART_H + 2 * half_length * np.cos(theta))
    pole = ([x, tip[0]], [CART_H, tip[1]])
    if action is None:
        arrow = ([x], [CART_H / 2])
    else:
        side = 1 if action == 1 else -1
        arrow = ([x + side * CART_W / 2, x + side * (CART_W / 2 + 0.35)], [CART_H / 2, CART_H / 2])
    return [cart, pole, arrow]


def _label(episode: Episode, step: int, actions: tuple[str, ...]) -> str:
    if step < len(episode.actions):
        return t("dqn.figure.step_action", step=step, action=actions[episode.actions[step]])
    return t("dqn.figure.step_fell" if episode.fell else "dqn.figure.step_time_limit", step=step)


def episode_figure(episode: Episode, title: str, half_length: float = 0.5, max_frames: int = 250,
                   height: int = 500) -> go.Figure:
    """The episode as a Plotly animation (Play, Pause, a slider): the cart and pole on top, both actions'
    Q-values below with the chosen action marked, a cursor at the frame shown. Long episodes show
    every k-th step so that at most `max_frames` frames play, still in real time."""
    n = len(episode.states)
    stride = max(1, int(np.ceil(n / max_frames)))
    shown = list(range(0, n, stride)) + ([n - 1] if (n - 1) % stride else [])
    top = max(1.2, CART_H + 2 * half_length + 0.2)
    q_range = _q_range(episode)
    actions = action_names()
    cart, pole, arrow = _cart_pole(episode.states[0], half_length, _action(episode, 0))
    fig = make_subplots(rows=2, cols=1, row_heights=[0.56, 0.44], vertical_spacing=0.16)
    scene = [  # traces 0-2 move with the frames; 3 and 4 are the track and its limits
        go.Scatter(x=cart[0], y=cart[1], fill="toself", mode="lines", line=dict(color=DARK), fillcolor="#B2BEC3"),
        go.Scatter(x=pole[0], y=pole[1], mode="lines+markers", line=dict(color=ACCENT, width=7),
                   marker=dict(size=[6, 10], color=ACCENT)),
        go.Scatter(x=arrow[0], y=arrow[1], mode="lines", line=dict(color=DARK, width=5)),
        go.Scatter(x=[-X_LIMIT - 0.4, X_LIMIT + 0.4], y=[0, 0], mode="lines", line=dict(color="#636E72", width=2)),
        go.Scatter(x=[-X_LIMIT, X_LIMIT], y=[0, 0], mode="markers",
                   marker=dict(symbol="line-ns", size=18, line=dict(width=2, color=PALETTE[5]))),
    ]
    for trace in scene:
        fig.add_trace(trace.update(hoverinfo="skip", showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0, 0], y=q_range, mode="lines", line=dict(color=DARK, dash="dot"), hoverinfo="skip",
                             showlegend=False), row=2, col=1)  # trace 5, the cursor, moves too
    for a, name in enumerate(actions):
        fig.add_trace(go.Scatter(x=np.arange(n), y=episode.q_values[:, a], mode="lines",
                                 name=t("dqn.figure.q_of", action=name), line=dict(color=ACTION_COLORS[a]),
                                 hovertemplate=t("dqn.figure.q_hover", action=name)), row=2, col=1)
    taken = np.arange(len(episode.actions))
    fig.add_trace(go.Scatter(x=taken, y=episode.q_values[taken, episode.actions], mode="markers",
                             name=t("dqn.figure.chosen"),
                             marker=dict(size=4, color=[ACTION_COLORS[a] for a in episode.actions],
                                         line=dict(width=0.5, color=DARK)),
                             hovertemplate=t("dqn.figure.chosen_hover"),
                             text=[actions[a] for a in episode.actions]), row=2, col=1)
    frames = []
    for step in shown:
        cart, pole, arrow = _cart_pole(episode.states[step], half_length, _action(episode, step))
        frames.append(dict(name=str(step), traces=[0, 1, 2, 5], data=[  # plain dicts: a third faster than go.Frame
            dict(type="scatter", x=xs, y=ys) for xs, ys in (cart, pole, arrow, ([step, step], q_range))]))
    fig.frames = frames
    play = dict(label=t("dqn.figure.play"), method="animate",
                args=[None, dict(frame=dict(duration=TAU_MS * stride, redraw=False), transition=dict(duration=0),
                                 fromcurrent=True, mode="immediate")])
    pause = dict(label=t("dqn.figure.pause"), method="animate",
                 args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
    jump = lambda step: dict(method="animate", label=_label(episode, step, actions),
                             args=[[str(step)], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                  transition=dict(duration=0))])
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN, b=60), title=title_layout(title),
        legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top", font_size=11, bgcolor="rgba(0,0,0,0)"),
        updatemenus=[dict(type="buttons", direction="left", buttons=[play, pause], showactive=False,
                          x=0, y=-0.12, xanchor="left", yanchor="top", pad=dict(t=10))],
        sliders=[dict(steps=[jump(step) for step in shown], active=0, x=0.25, len=0.75, y=-0.12, yanchor="top",
                      pad=dict(t=0), currentvalue=dict(prefix=t("dqn.figure.step_prefix"), xanchor="right", font=dict(size=13)), ticklen=0,
                      font=dict(size=1))])  # the step's label shows above the slider, not under each tick
    fig.update_xaxes(range=[-X_LIMIT - 0.5, X_LIMIT + 0.5], showgrid=False, zeroline=False,
                     ticksuffix=t("dqn.figure.metres_suffix"), title=t("dqn.figure.cart_axis"), row=1, col=1)
    fig.update_yaxes(range=[-0.15, top], visible=False, scaleanchor="x", row=1, col=1)
    fig.update_xaxes(range=[-0.5, n - 0.5], title=t("dqn.figure.step_axis"), row=2, col=1,
                     **integer_ticks([0, n - 1]))
    fig.update_yaxes(range=q_range, title=t("dqn.figure.q_axis"), row=2, col=1)
    return fig


def _action(episode: Episode, step: int) -> int | None:
    return int(episode.actions[step]) if step < len(episode.actions) else None


def _q_range(episode: Episode) -> list[float]:
    low, high = float(episode.q_values.min()), float(episode.q_values.max())
    pad = 0.05 * (high - low) + 0.5
    return [low - pad, high + pad]


def q_landscape(preference: np.ndarray, value: np.ndarray, thetas: np.ndarray, theta_dots: np.ndarray,
                trajectory: np.ndarray | None = None, height: int = 420) -> go.Figure:
    """Two heat maps over pole angle (x, degrees) and angular velocity (y): Q(right) - Q(left), the
    action the agent prefers and how strongly, and max Q, what it expects to collect from there;
    `trajectory` (T, 4) states, if given, is drawn over both."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.2,
                        subplot_titles=(t("dqn.landscape.preference_title"), t("dqn.landscape.value_title")))
    degrees = np.degrees(thetas)
    lim = float(np.abs(preference).max()) or 1.0
    fig.add_trace(go.Heatmap(z=preference, x=degrees, y=theta_dots, colorscale="RdBu_r", zmin=-lim, zmax=lim,
                             colorbar=dict(x=0.41, thickness=10, title=t("dqn.landscape.preference_bar")),
                             hovertemplate=t("dqn.landscape.preference_hover")),
                  row=1, col=1)
    fig.add_trace(go.Heatmap(z=value, x=degrees, y=theta_dots, colorscale="Viridis",
                             colorbar=dict(thickness=10, title=t("dqn.landscape.value_bar")),
                             hovertemplate=t("dqn.landscape.value_hover")),
                  row=1, col=2)
    if trajectory is not None:
        for col in (1, 2):
            fig.add_trace(go.Scatter(x=np.degrees(trajectory[:, 2]), y=trajectory[:, 3], mode="lines",
                                     line=dict(color=SECOND if col == 1 else "white", width=2), name=t("dqn.landscape.episode"),
                                     showlegend=col == 1, hoverinfo="skip"), row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(title=t("dqn.landscape.angle_axis"), range=[degrees[0], degrees[-1]], row=1, col=col)
        fig.update_yaxes(title=t("dqn.landscape.velocity_axis"), range=[theta_dots[0], theta_dots[-1]], row=1,
                         col=col)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=TITLE_MARGIN + 30, b=10),
                      title=title_layout(t("dqn.landscape.title")),
                      legend=dict(orientation="h", y=-0.25, yanchor="top"))
    return fig
