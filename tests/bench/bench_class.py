"""Benchmark: a class on one server: N visitors walk every page at once while J of them fine-tune (prints figures;
not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_class.py --visitors 10 --trainers 2 [--out out/class-10.json]

Starts the real server and one headless Chromium with one context per visitor, all visiting at once (async
Playwright). Each visitor walks the 14 pages in its own order: opens the page, waits until it is idle (Streamlit's
running indicator gone for QUIET_S), then does the page's main interaction step by step (upload a small image, type
text, press the page's main button, move a slider), waiting until idle after each. Idle is read from the
websocket: the server's `session_status_changed` messages say when the session's script starts and stops running
(Streamlit's running indicator shows only runs longer than a moment). The first J visitors also start
a 10-step fine-tune on the CNN page and wait for it. Every step has its own timeout; a step or page that fails is
counted and the visitor goes on.

Prints, per page and overall, the time from an action to idle (p50 / p95; opening a page and the interactions
apart); the server's RSS and its job workers' RSS in all at start, at their peak (sampled every 0.5 s), with every
visitor still connected after the walk, and 30 s and 135 s after the visitors left (AFTER_S); the CPU seconds the
server, its job workers and the browsers used while the visitors were in (on one machine the browsers compete with
the server; in a class they run on the students' computers); the fine-tunes finished; and what went
wrong: steps that failed, exceptions and error messages on the pages, errors in the browser console and
tracebacks in the server's log. --out also writes it all as JSON. What one more visitor costs: the server's RSS
with all visitors in, at N = 30 less at N = 10, over 20.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
from PIL import Image, ImageDraw
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_session_memory import memory_mb, processes  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402

QUIET_S = 1.5
"""a page is idle once its script has not been running for this long (the time reported ends where the run ended)"""
AFTER_S = (30, 135)
"""when to measure after the visitors left: Streamlit keeps a closed tab's session server.disconnectedSessionTTL
(120 s) for it to reconnect, so only the second sees their sessions gone"""
SAMPLE_S = 0.5

VISITS: dict[str, list[tuple[str, ...]]] = {
    "": [],
    "mlp": [("click", "One step"), ("slide", "Noise")],
    "cnn": [("choose", "Upload"), ("upload",), ("slide", "Steps")],
    "resnet": [("choose", "Upload"), ("upload",), ("slide", "Depth (layers)")],
    "unet": [("click", "New scene"), ("slide", "Level"), ("choose", "Your image"), ("upload",)],
    "rnn": [("type", "Prompt", "And the LORD"), ("slide", "Generated character")],
    "word2vec": [("type", "A word", "water")],
    "transformer": [("type", "Prompt", "In the beginning"), ("click", "New sample")],
    "autoencoder": [("choose", "Upload"), ("upload",), ("slide", "Noise (standard deviation)")],
    "gan": [("choose", "Upload"), ("upload",)],
    "diffusion": [("choose", "Upload"), ("upload",), ("slide", "Noise step t")],
    "gnn": [("slide", "Class-balance weight")],
    "dqn": [("play",)],
    "self_supervised": [("choose", "Upload"), ("upload",), ("slide", "Images in the batch")],
}
"""each page's address and its main interaction, as steps: ("choose", option of a radio), ("upload",) a small
image into the uploader shown, ("type", label, text), ("click", button), ("slide", label) one notch right, ("play",)
the episode's Play button"""


@dataclass
class Record:
    """What the visitors saw, shared by all of them (one event loop, so no lock)."""

    idle_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # "page open" / "page act"
    failures: Counter = field(default_factory=Counter)  # "page step: error" -> count
    page_errors: Counter = field(default_factory=Counter)  # exceptions and error messages shown, by text
    console_errors: Counter = field(default_factory=Counter)
    base_path_probes: int = 0
    finetunes_s: list[float] = field(default_factory=list)
    finetunes_failed: int = 0


class Memory(threading.Thread):
    """Samples the server's RSS and the sum of its workers' RSS every SAMPLE_S, keeping the peaks, and the CPU
    seconds the server, its workers and the browsers (this process's Chromium) have used (exited ones included)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.peak, self.stop = port, {"server": 0.0, "workers": 0.0, "both": 0.0}, threading.Event()
        self.cpu_by_pid: dict[str, dict[int, float]] = {"server": {}, "job workers": {}, "browsers": {}}

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by the server, its job workers and the browsers, as last sampled."""
        return {group: sum(by_pid.values()) for group, by_pid in self.cpu_by_pid.items()}

    def _sample_cpu(self, server: int, workers: list[int]) -> None:
        browsers = [p.pid for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]
        for group, pids in (("server", [server]), ("job workers", workers), ("browsers", browsers)):
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    times = psutil.Process(pid).cpu_times()
                    self.cpu_by_pid[group][pid] = times.user + times.system

    def now(self) -> dict[str, float]:
        server, workers = processes(self.port)
        sizes = {"server": memory_mb(server)["VmRSS"], "workers": 0.0, "n_workers": 0}
        for pid in workers:
            try:
                sizes["workers"] += memory_mb(pid)["VmRSS"]
                sizes["n_workers"] += 1
            except (OSError, KeyError):  # it exited meanwhile
                continue
        return sizes | {"both": sizes["server"] + sizes["workers"]}

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_S):
            try:
                sizes = self.now()
                self._sample_cpu(*processes(self.port))
            except (OSError, KeyError, TypeError, psutil.Error):  # the server is going away
                continue
            self.peak = {key: max(value, sizes[key]) for key, value in self.peak.items()}


class ScriptRuns:
    """Whether a browser page's script is running on the server, and since when, from its websocket."""

    def __init__(self, page) -> None:
        self.running, self.changed = False, time.monotonic()
        page.on("websocket", lambda socket: socket.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes) and len(payload) < 256:  # a status message is a few bytes; skip the deltas
            message = ForwardMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "session_status_changed":
                self.running, self.changed = message.session_status_changed.script_is_running, time.monotonic()

    async def settle(self, started: float, timeout_s: float) -> float:
        """Seconds from `started` until the script stopped running, once it has not run for QUIET_S."""
        deadline = started + timeout_s
        while self.running or time.monotonic() - max(self.changed, started) < QUIET_S:
            if time.monotonic() > deadline:
                raise TimeoutError(f"still running after {timeout_s:g} s")
            await asyncio.sleep(0.05)
        return max(self.changed - started, 0.0)


async def act(page, step: tuple[str, ...], image: Path, timeout_ms: float) -> None:
    """Do one step of a page's interaction."""
    main = page.get_by_test_id("stMain")
    kind = step[0]
    if kind == "choose":
        await main.get_by_text(step[1], exact=True).first.click(timeout=timeout_ms)
    elif kind == "upload":
        await main.locator("[data-testid=stFileUploader] input[type=file]").first.set_input_files(image,
                                                                                                timeout=timeout_ms)
    elif kind == "type":
        box = main.get_by_label(step[1], exact=True).first
        await box.fill(step[2], timeout=timeout_ms)
        await box.press("Control+Enter" if await box.evaluate("e => e.tagName") == "TEXTAREA" else "Enter")
    elif kind == "click":
        await main.get_by_role("button", name=step[1]).first.click(timeout=timeout_ms)
    elif kind == "slide":
        thumb = main.get_by_test_id("stSlider").filter(has_text=step[1]).first.get_by_role("slider")
        await thumb.focus(timeout=timeout_ms)
        await thumb.press("ArrowRight")
    elif kind == "play":
        await main.locator("g.updatemenu-button").first.click(timeout=timeout_ms)


async def look_for_errors(page, record: Record, where: str) -> None:
    """Count the exceptions and error messages the page shows now."""
    for test_id in ("stException", "stAlertContentError"):
        for text in await page.get_by_test_id(test_id).all_inner_texts():
            record.page_errors[f"{where}: {test_id}: {text.strip()[:160]}"] += 1


async def finetune(page, runs: ScriptRuns, record: Record, limit_s: float) -> None:
    """On the CNN page: the fewest steps, Start fine-tuning, wait until it has finished."""
    main = page.get_by_test_id("stMain")
    steps = main.get_by_test_id("stSlider").filter(has_text="Steps").first.get_by_role("slider")
    await steps.focus()
    await steps.press("Home")
    await runs.settle(time.monotonic(), limit_s)
    started = time.monotonic()
    await main.get_by_role("button", name="Start fine-tuning").click()
    await main.get_by_text("Fine-tuning finished").first.wait_for(timeout=limit_s * 1000)
    record.finetunes_s.append(time.monotonic() - started)


async def visit(browser, url: str, number: int, trains: bool, args, record: Record, image: Path):
    """One visitor: every page in its own order, each opened and used, and a fine-tune on the CNN page if it trains;
    returns its browser context, still open."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(args.step_timeout_s * 1000)
    page = await context.new_page()
    runs = ScriptRuns(page)
    page.on("pageerror", lambda error: record.page_errors.update([f"uncaught in the browser: {str(error)[:160]}"]))
    page.on("console", lambda message: console_error(message, record))
    order = list(args.pages)
    random.Random(number).shuffle(order)
    await asyncio.sleep(number * args.ramp_s)
    for path in order:
        name = path or "home"
        try:
            started = time.monotonic()
            await page.goto(f"{url}/{path}", wait_until="commit")
            await page.get_by_role("heading", level=1).first.wait_for()
            record.idle_s[f"{name} open"].append(await runs.settle(started, args.step_timeout_s))
        except Exception as error:
            record.failures[f"{name} open: {type(error).__name__}"] += 1
            continue
        for step in VISITS[path]:
            await asyncio.sleep(args.think_s)
            try:
                started = time.monotonic()
                await act(page, step, image, args.step_timeout_s * 1000)
                record.idle_s[f"{name} act"].append(await runs.settle(started, args.step_timeout_s))
            except Exception as error:
                record.failures[f"{name} {step[0]}: {type(error).__name__}"] += 1
        await look_for_errors(page, record, name)
        if trains and path == "cnn":
            try:
                await finetune(page, runs, record, args.job_limit_s)
            except Exception as error:
                record.finetunes_failed += 1
                record.failures[f"cnn fine-tune: {type(error).__name__}"] += 1
            await look_for_errors(page, record, "cnn fine-tune")
    return context


def console_error(message, record: Record) -> None:
    """Count an error in the browser's console, apart from the 404s of the frontend probing a page's address for
    the server's base path (`/cnn/_stcore/health`), which it does on every page opened by its address."""
    if message.type != "error":
        return
    if message.location.get("url", "").endswith(("/_stcore/health", "/_stcore/host-config")):
        record.base_path_probes += 1
    else:
        record.console_errors.update([message.text[:160]])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(samples: list[float]) -> str:
    if not samples:
        return "          -"
    return f"{statistics.median(samples):5.1f} {percentile(samples, 0.95):5.1f}"


def report(record: Record, memory: dict[str, dict[str, float]], cpu: dict[str, float], args, wall_s: float,
           log: str) -> dict:
    print(f"\n{args.visitors} visitors, {args.trainers} fine-tuning; {wall_s:.0f} s in all; "
          f"ZOO_MAX_JOBS={os.environ.get('ZOO_MAX_JOBS', '')!r} ZOO_WORKER_THREADS="
          f"{os.environ.get('ZOO_WORKER_THREADS', '')!r} ZOO_WORKER_IDLE_S={os.environ.get('ZOO_WORKER_IDLE_S', '')!r}")
    print(f"{'page':12} {'open p50  p95':>14} {'act p50  p95':>14}   (seconds to idle)")
    for path in args.pages:
        name = path or "home"
        print(f"{name:12} {summary(record.idle_s[f'{name} open']):>14} {summary(record.idle_s[f'{name} act']):>14}")
    opens = [s for key, values in record.idle_s.items() if key.endswith("open") for s in values]
    acts = [s for key, values in record.idle_s.items() if key.endswith("act") for s in values]
    print(f"{'all':12} {summary(opens):>14} {summary(acts):>14}   overall {summary(opens + acts)}")
    print("memory, MB RSS:       server  workers (count)  both")
    for phase, sizes in memory.items():
        count = f"({sizes['n_workers']:.0f})" if "n_workers" in sizes else "   "
        print(f"  {phase:18} {sizes['server']:7.0f} {sizes['workers']:8.0f} {count:>7} {sizes['both']:6.0f}")
    grown = memory["all visitors in"]["server"] - memory["start"]["server"]
    print(f"  the server grew {grown:.0f} MB with {args.visitors} visitors in ({grown / args.visitors:.1f} MB each, "
          "models loaded once included)")
    used = sum(cpu.values())
    print("CPU seconds while the visitors were in: " + ", ".join(f"{group} {seconds:.0f} ({seconds / used:.0%})"
                                                                 for group, seconds in cpu.items()))
    durations = ", ".join(f"{s:.0f}" for s in record.finetunes_s) or "none"
    print(f"fine-tunes finished: {len(record.finetunes_s)} of {args.trainers} (seconds: {durations}); "
          f"failed or timed out: {record.finetunes_failed}")
    tracebacks = server_errors(log)
    print(f"steps failed: {sum(record.failures.values())}; errors shown on pages: {sum(record.page_errors.values())};"
          f" browser console errors: {sum(record.console_errors.values())} (and {record.base_path_probes} 404s of the "
          f"frontend probing a page's base path); tracebacks in the server log: {sum(tracebacks.values())}")
    for title, counter in (("failed", record.failures), ("shown", record.page_errors),
                           ("console", record.console_errors), ("server", tracebacks)):
        for text, n in counter.most_common(8):
            print(f"  {title} x{n}: {text}")
    return {"visitors": args.visitors, "trainers": args.trainers, "wall_s": wall_s,
            "idle_s": dict(record.idle_s), "memory_mb": memory, "cpu_s": cpu, "finetunes_s": record.finetunes_s,
            "finetunes_failed": record.finetunes_failed, "failures": dict(record.failures),
            "page_errors": dict(record.page_errors), "console_errors": dict(record.console_errors),
            "server_tracebacks": dict(tracebacks)}


def server_errors(log: str) -> Counter:
    """The server log's tracebacks, each by its last line and the deepest line of the zoo's code it passed."""
    found = Counter()
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line.strip()]
        ours = [line.strip() for line in lines if line.strip().startswith("File") and "site-packages" not in line]
        last = next((line for line in lines if not line.startswith((" ", "\t"))), lines[-1] if lines else "")
        found[f"{last.strip()[:200]} (at {ours[-1][:160] if ours else '?'})"] += 1
    return found


def small_image(path: Path) -> Path:
    """A white T-shirt on black, 240 px: what a visitor uploads to the image pages."""
    image = Image.new("RGB", (240, 240), "black")
    ImageDraw.Draw(image).polygon([(80, 30), (160, 30), (220, 70), (170, 95), (170, 215), (70, 215), (70, 95),
                                   (20, 70)], fill="white")
    image.save(path)
    return path


async def run_class(url: str, args, record: Record, memory: Memory, image: Path
                    ) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    from playwright.async_api import async_playwright
    phases = {"start": memory.now()}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        visitors = [visit(browser, url, n, n < args.trainers, args, record, image) for n in range(args.visitors)]
        contexts = await asyncio.gather(*visitors, return_exceptions=True)
        phases["all visitors in"] = memory.now()
        cpu = memory.cpu_seconds()
        for context in contexts:
            if not isinstance(context, BaseException):
                await context.close()
            else:
                record.failures[f"visitor: {type(context).__name__}: {context}"[:160]] += 1
        await browser.close()
    left, afterwards = time.monotonic(), {}
    for after_s in args.after_s:
        await asyncio.sleep(max(0.0, left + after_s - time.monotonic()))
        afterwards[f"{after_s:g} s after"] = memory.now()
    return phases | {"peak": dict(memory.peak)} | afterwards, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=2, help="browser sessions at once (N)")
    parser.add_argument("--trainers", type=int, default=1, help="how many of them fine-tune on the CNN page (J)")
    parser.add_argument("--ramp-s", type=float, default=0.5, help="seconds between one visitor's arrival and the next")
    parser.add_argument("--think-s", type=float, default=1.0, help="seconds a visitor pauses before each step")
    parser.add_argument("--step-timeout-s", type=float, default=180, help="longest wait for one step or page")
    parser.add_argument("--job-limit-s", type=float, default=900, help="longest wait for a fine-tune, queue included")
    parser.add_argument("--after-s", type=float, nargs="*", default=AFTER_S,
                        help="when to measure after the visitors left, seconds")
    parser.add_argument("--pages", nargs="*", default=list(VISITS), help="the pages' addresses (home is \"\")")
    parser.add_argument("--out", type=Path, help="also write the results to this JSON file, and the server's log "
                                                 "beside it")
    args = parser.parse_args()
    record = Record()
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "streamlit.log") as url:
        memory = Memory(int(url.rsplit(":", 1)[1]))
        memory.start()
        began = time.monotonic()
        phases, cpu = asyncio.run(run_class(url, args, record, memory, small_image(Path(tmp) / "tshirt.png")))
        memory.stop.set()
        log = (Path(tmp) / "streamlit.log").read_text()
    results = report(record, phases, cpu, args, time.monotonic() - began, log)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1))
        args.out.with_suffix(".log").write_text(log)
        print(f"written to {args.out} and {args.out.with_suffix('.log')}")


if __name__ == "__main__":
    main()
