"""Benchmark: what one visitor and one fine-tuning job cost the server in memory (prints figures; not a test).

    python tests/bench/bench_session_memory.py [SESSIONS]

Starts the real server and prints its resident memory (RSS): at start; after a first visitor has opened
every page (each page's models are loaded once per server); after each of SESSIONS - 1 more visitors
(default 3 in all, one Chromium context each) has opened the CNN page. Then the job workers' RSS idle,
and their peak RSS and data size (what ZOO_WORKER_MEMORY_MB limits) during the CNN page's default
fine-tune, started from the first visitor. These are the figures behind the README's sizing of a server
for a class.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402

TIMEOUT_MS = 180_000
PAGES = ["", "mlp", "resnet", "unet", "rnn", "word2vec", "transformer", "autoencoder", "gan", "diffusion", "gnn", "dqn",
         "cnn"]
"""every page's address, the CNN page last: the first visitor stays on it"""


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident, peak resident and data memory, MB, and its threads."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    sizes = {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM", "VmData")}
    return sizes | {"Threads": int(fields["Threads"])}


def processes(port: int) -> tuple[int, list[int]]:
    """The pid of the server listening on `port` and those of its job workers."""
    server, workers = None, []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in command and str(port).encode() in command:
            server = int(proc.name)
        elif b"zoo.jobs.worker" in command:
            workers.append(int(proc.name))
    parents = {pid: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) for pid in workers}
    return server, [pid for pid in workers if parents[pid] == server]


def open_page(page, address: str) -> None:
    """Open a page and wait until its script has run to the end (Streamlit's running indicator gone for 2 s)."""
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(address)
    page.get_by_role("heading", level=1).first.wait_for()
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 2:
        if page.get_by_test_id("stStatusWidget").count():
            quiet_since = time.monotonic()
        time.sleep(0.2)


def main(sessions: int) -> None:
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=TIMEOUT_MS)
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "streamlit.log") as url, \
            sync_playwright() as playwright:
        port = int(url.rsplit(":", 1)[1])
        server, _ = processes(port)
        print(f"server at start: {memory_mb(server)['VmRSS']:.0f} MB RSS")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        visitors = [browser.new_context(viewport={"width": 1366, "height": 900}).new_page() for _ in range(sessions)]
        for path in PAGES:
            open_page(visitors[0], f"{url}/{path}")
        print(f"server after one visitor opened every page: {memory_mb(server)['VmRSS']:.0f} MB RSS")
        for n, visitor in enumerate(visitors[1:], start=2):
            open_page(visitor, f"{url}/cnn")
            print(f"server with {n} visitors: {memory_mb(server)['VmRSS']:.0f} MB RSS, "
                  f"{memory_mb(server)['Threads']} threads")
        _, workers = processes(port)
        idle = [memory_mb(pid) for pid in workers]
        print(f"{len(workers)} workers idle: " + ", ".join(f"{m['VmRSS']:.0f} MB RSS ({m['VmData']:.0f} MB data, "
                                                          f"{m['Threads']} threads)" for m in idle))
        visitors[0].get_by_role("button", name="Start fine-tuning").click()
        started = time.monotonic()
        peak = {pid: dict.fromkeys(("VmRSS", "VmHWM", "VmData", "Threads"), 0) for pid in workers}
        done = visitors[0].get_by_text("Fine-tuning finished")
        while not done.count():
            for pid in workers:
                peak[pid] = {name: max(value, peak[pid][name]) for name, value in memory_mb(pid).items()}
            server_rss = memory_mb(server)["VmRSS"]
            time.sleep(0.5)
        busy = max(peak.values(), key=lambda m: m["VmHWM"])
        print(f"default CNN fine-tune: {time.monotonic() - started:.0f} s; its worker peaked at {busy['VmHWM']:.0f} MB "
              f"RSS, {busy['VmData']:.0f} MB data, {busy['Threads']} threads; the server meanwhile {server_rss:.0f} MB "
              "RSS")
        browser.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
