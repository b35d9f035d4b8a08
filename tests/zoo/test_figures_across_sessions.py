"""Two visitors' sessions run in threads of one server: a figure built while another session imports pandas for
the first time must not fail (plotly reads a half-imported pandas from sys.modules; `zoo.plots` imports it whole)."""
import subprocess
import sys

from zoo import settings

RACE = """
import threading
import numpy as np
import zoo.plots
import plotly.graph_objects as go

errors, done = [], threading.Event()

def build_figures():
    while not done.is_set():
        try:
            go.Figure(go.Scatter(x=np.arange(3), y=np.arange(3)))
        except Exception as exc:
            errors.append(repr(exc))
            return

session = threading.Thread(target=build_figures)
session.start()
import pandas  # another session's first table
done.set()
session.join()
print(errors)
"""


def test_a_figure_built_while_another_session_imports_pandas_does_not_fail():
    run = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, cwd=settings.REPOSITORY,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
