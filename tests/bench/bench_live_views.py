"""Benchmark of the live training views as a browser sees them (prints figures; not a test).

    python tests/bench/bench_live_views.py [--skip-cnn] [--skip-gan] [--gan-seconds 12] [--browser-slowdown 6]

Starts the real server (as tests/e2e does) and watches it with headless Chromium, decoding every
websocket message the server sends (Streamlit's ForwardMsg protobuf): a tick is one finished run
of a live fragment, and its bytes are what the server sent for it.
1. The CNN page's fine-tune (500 steps), as bench_cnn --browser: steps per second read from the live
   counter against the same steps in a bare PyTorch loop (the ratio; goal >= 0.75x on 2 cores), the
   bytes per tick and ticks per second, and the CPU the server and the browser used meanwhile.
2. The GAN page's toy game (one Start, --gan-seconds of it): bytes per tick, ticks per second, and how
   often each of its three live charts had its traces drawn when looked at (blank charts were reported);
   --browser-slowdown 6 throttles the browser's CPU as a busy machine would.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_cnn import BATCH, LR, N_TRAIN, NAME  # noqa: E402  (same directory)
from timing import loop_steps_per_s  # noqa: E402
from zoo import checkpoints  # noqa: E402
from zoo.data import fashion_mnist  # noqa: E402
from zoo.training.loop import make_optimizer  # noqa: E402

CNN_STEPS = 500
"""the CNN page's Steps slider at its end, as bench_cnn --browser"""
GAN_CHARTS = {"plane": "D's verdict over the plane", "losses": "D's and G's losses", "modes": "Modes covered"}
"""the toy game's live charts, by the start of their titles"""
DRAWN_CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(e => ({
    title: (e.layout && e.layout.title && (e.layout.title.text || e.layout.title)) || '',
    drawn: [...e.querySelectorAll('.scatterlayer .trace path, .heatmaplayer image, .hm image')]
        .filter(s => (s.getAttribute('d') || s.getAttribute('href') || '').length > 2).length}))"""


@dataclass
class Traffic:
    """What the server sent over the websocket, decoded: bytes and finished fragment runs (ticks)."""
    started: float = field(default_factory=time.perf_counter)
    bytes: int = 0
    ticks: list[float] = field(default_factory=list)
    tick_bytes: list[int] = field(default_factory=list)
    _since_tick: int = 0

    def take(self, payload: bytes | str) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        data = payload.encode() if isinstance(payload, str) else payload
        self.bytes += len(data)
        self._since_tick += len(data)
        message = ForwardMsg.FromString(data)
        if message.WhichOneof("type") == "script_finished":
            self.ticks.append(time.perf_counter())
            self.tick_bytes.append(self._since_tick)
            self._since_tick = 0

    def reset(self) -> None:
        self.__init__()

    def summary(self) -> str:
        ticks = self.tick_bytes[1:] or [0]  # the first one holds what the click drew
        rate = (len(self.ticks) - 1) / (self.ticks[-1] - self.ticks[0]) if len(self.ticks) > 1 else 0.0
        return (f"{statistics.median(ticks) / 1024:.1f} KB a tick (median; max {max(ticks) / 1024:.1f} KB), "
                f"{rate:.2f} ticks/s, {self.bytes / 1024 / max(time.perf_counter() - self.started, 1e-9):.0f} KB/s")


class CpuMeter:
    """Cores used by the server itself, by its job workers and by the browser between two readings."""

    def __init__(self, server_pid: int, browser_pid: int) -> None:
        self.server, self.browser = psutil.Process(server_pid), psutil.Process(browser_pid)
        self.start, self.began = self._read(), time.perf_counter()

    def _read(self) -> dict[str, dict[int, float]]:
        groups = {"server": [self.server], "job workers": self.server.children(recursive=True),
                  "browser": [self.browser, *self.browser.children(recursive=True)]}
        seconds = {}
        for name, processes in groups.items():
            seconds[name] = {}
            for process in processes:
                try:
                    times = process.cpu_times()
                    seconds[name][process.pid] = times.user + times.system
                except psutil.NoSuchProcess:
                    pass
        return seconds

    def seconds(self) -> dict[str, float]:
        """CPU seconds of each group since the meter started."""
        return {name: sum(t - self.start[name].get(pid, 0.0) for pid, t in processes.items())
                for name, processes in self._read().items()}

    def summary(self) -> str:
        wall = time.perf_counter() - self.began
        return "cores used meanwhile: " + ", ".join(f"{name} {cpu / wall:.2f}" for name, cpu in self.seconds().items())


def cnn_bare_steps_per_s(steps: int = 300) -> tuple[float, float]:
    """The page's fine-tuning steps (model, data, batch, augmentation, batch-norm statistics kept) in a bare loop:
    steps per second, and CPU seconds per step."""
    torch.manual_seed(0)
    model, _ = checkpoints.load(NAME, "cpu")
    train, _ = fashion_mnist.subset(N_TRAIN)
    optimizer, _ = make_optimizer(model, LR)
    cpu = time.process_time()
    rate = loop_steps_per_s(model, fashion_mnist.batches(train, BATCH, 0), optimizer, steps,
                            transform=fashion_mnist.augment, freeze_norm=True)
    return rate, (time.process_time() - cpu) / (steps + 1)


def _server_pid() -> int:
    """The pid of the `streamlit run` process this benchmark started."""
    return next(p.pid for p in psutil.Process().children() if "streamlit" in " ".join(p.cmdline()))


def watch_cnn(page, url: str, traffic: Traffic, browser_pid: int) -> tuple[float, float, str]:
    """Start the CNN page's fine-tune and read the live step counter once a second; (steps/s, the job worker's
    CPU seconds per step, the cores each part used)."""
    page.goto(f"{url}/cnn")
    page.get_by_role("button", name="Start fine-tuning").wait_for()
    slider = page.get_by_test_id("stSlider").filter(has_text="Steps").get_by_role("slider")
    slider.focus()
    page.keyboard.press("End")  # 500 steps
    page.wait_for_timeout(1500)
    traffic.reset()
    meter = CpuMeter(_server_pid(), browser_pid)
    page.get_by_role("button", name="Start fine-tuning").click()
    counter, readings = re.compile(r"Training… step (\d+)"), []
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        found = page.get_by_text(counter)
        text = found.all_inner_texts() if found.count() else []
        if text:
            readings.append((time.perf_counter(), int(counter.search(text[0]).group(1))))
        if page.get_by_text("Fine-tuning finished.").count():
            break
        page.wait_for_timeout(1000)
    cpu, worker = meter.summary(), meter.seconds()["job workers"]
    first = next(r for r in readings if r[1] >= 20)
    last = readings[-1]
    return (last[1] - first[1]) / (last[0] - first[0]), worker / last[1], cpu


def watch_gan(page, url: str, traffic: Traffic, seconds: float) -> dict[str, float]:
    """Start the toy game and, once its first frames are in, look at its charts every second; the share of
    looks at which each was drawn."""
    page.goto(f"{url}/gan")
    page.get_by_role("button", name="Start fine-tuning").wait_for()  # the page's first run reached its end
    page.wait_for_timeout(2000)
    traffic.reset()
    page.get_by_role("button", name="Start", exact=True).click()
    drawn = {name: 0 for name in GAN_CHARTS}
    page.get_by_text("The loss curves appear once it trains").wait_for(state="hidden")  # the first frames are in
    looks, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        charts = page.evaluate(DRAWN_CHARTS_JS)
        looks += 1
        for name, title in GAN_CHARTS.items():
            drawn[name] += any(title in str(c["title"]) and c["drawn"] > 0 for c in charts)
        page.wait_for_timeout(1000)
    if page.get_by_role("button", name="Pause").is_enabled():
        page.get_by_role("button", name="Pause").click()
    return {name: count / max(looks, 1) for name, count in drawn.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--skip-gan", action="store_true")
    parser.add_argument("--gan-seconds", type=float, default=12.0)
    parser.add_argument("--browser-slowdown", type=float, default=1.0,
                        help="run the page's scripts this many times slower (Chromium's CPU throttling): a busy machine")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    bare = [] if args.skip_cnn else [cnn_bare_steps_per_s()]  # before and after the watched run: the load drifts
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "server.log") as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        browser_pid = next(c.pid for c in psutil.Process().children(recursive=True) if "chrom" in c.name())
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(120_000)
        page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": args.browser_slowdown})
        traffic = Traffic()
        page.on("websocket", lambda ws: ws.on("framereceived", traffic.take))
        if not args.skip_gan:
            shown = watch_gan(page, url, traffic, args.gan_seconds)
            print(f"GAN toy game watched for {args.gan_seconds:.0f} s (browser {args.browser_slowdown:g}x slowed): "
                  f"{traffic.summary()}; charts drawn when looked "
                  f"at: {', '.join(f'{name} {share:.0%}' for name, share in shown.items())}")
        if not args.skip_cnn:
            seen, worker_cpu, cpu = watch_cnn(page, url, traffic, browser_pid)
            print(f"CNN fine-tune watched: {traffic.summary()}; {cpu}")
        browser.close()
    if bare:
        bare.append(cnn_bare_steps_per_s())
        mean, bare_cpu = statistics.mean(rate for rate, _ in bare), statistics.mean(cpu for _, cpu in bare)
        print(f"the browser-watched fine-tune ratio: {seen:.2f} steps/s against a bare loop's {mean:.2f} "
              f"({bare[0][0]:.2f} before, {bare[1][0]:.2f} after) = {seen / mean:.2f}x (goal >= 0.75x; the page's job "
              f"also scores 1,000 validation images every 25 steps, which the bare loop does not). CPU per step: job "
              f"worker {1000 * worker_cpu:.0f} ms (start-up and scoring included), bare loop {1000 * bare_cpu:.0f} ms")


if __name__ == "__main__":
    main()
