"""zoo.plots' curves as the live panels send them: a long history thinned to at most CURVE_POINTS a line,
keeping its ends, its spikes and its dips, in float32, so that a redraw stays a few KB."""
import numpy as np
import plotly.io as pio

from zoo import i18n, plots


def _history(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"step": i, "d_loss": 1.3 + 0.1 * rng.random(), "g_loss": 0.7 + 0.1 * rng.random()} for i in range(n)]


def test_a_2000_point_history_is_thinned_but_keeps_its_ends_spikes_and_dips():
    history = _history(2000)
    history[1234]["d_loss"], history[777]["d_loss"] = 9.0, -2.0
    figure = plots.curves(history, ["d_loss", "g_loss"], title="D's and G's losses")
    for trace in figure.data:
        x, y = np.asarray(trace.x), np.asarray(trace.y)
        assert len(x) <= plots.CURVE_POINTS and x.dtype == np.float32
        assert x[0] == 0 and x[-1] == 1999 and np.all(np.diff(x) > 0)
    d_loss = figure.data[0]
    assert 1234 in d_loss.x and 777 in d_loss.x and d_loss.y.max() == 9.0 and d_loss.y.min() == -2.0


def test_the_curves_of_a_2000_step_history_stay_under_16_kb():
    """Before thinning, the toy game's two curve charts of a 2,000-frame history were 143 KB a redraw."""
    history = _history(2000)
    for step, event in enumerate(history):
        event["modes_covered"] = step % 9
    sizes = [len(pio.to_json(plots.curves(history, keys, title="t"), validate=False))
             for keys in (["d_loss", "g_loss"], ["modes_covered"])]
    assert sum(sizes) < 16_000, sizes


def test_a_short_curve_is_sent_whole():
    history = _history(plots.CURVE_POINTS)
    [trace] = plots.curves(history, ["d_loss"], title="D's loss").data
    assert list(trace.x) == list(range(plots.CURVE_POINTS))


def test_thin_keeps_missing_values_out_of_the_way():
    x = np.arange(1000, dtype=np.float32)
    y = np.where(np.arange(1000) % 3 == 0, np.nan, np.sin(x / 50)).astype(np.float32)
    y[500:520] = np.nan  # a stretch with nothing measured
    thin_x, thin_y = plots.thin(x, y, limit=100)
    assert len(thin_x) <= 100 and thin_x[0] == 0 and thin_x[-1] == 999
    assert np.nanmax(thin_y) == np.nanmax(y) and np.nanmin(thin_y) == np.nanmin(y)


def test_a_chart_speaks_the_readers_language():
    """Legend names, axis titles and default words come from zoo/i18n/plots.toml; Russian numbers use a decimal comma."""
    history = _history(10)
    english = plots.curves(history, ["d_loss"], title="t")
    assert english.data[0].name == "D's loss" and english.layout.yaxis.title.text == "loss (nats)"
    assert english.layout.xaxis.title.text == "training step" and english.layout.separators is None
    with i18n.speaking("ru"):
        russian = plots.curves(history, ["d_loss", "g_loss"], title="t")
        bars = plots.probability_bars(np.array([0.25, 0.75]), ["a", "b"], title="t")
    assert [trace.name for trace in russian.data] == ["потери D", "потери G"]
    assert russian.layout.yaxis.title.text == "потери (нат)" and russian.layout.xaxis.title.text == "шаг обучения"
    assert russian.layout.separators == bars.layout.separators == ",\u202f"
    assert list(bars.data[0].text) == ["25,0\u00a0%", "75,0\u00a0%"] and bars.layout.xaxis.title.text == "вероятность"
