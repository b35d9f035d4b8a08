"""A Ray head on this machine for the tests, on the loopback only, started and stopped by them.

Measured with ray 2.60 on these machines: Ray otherwise picks the network interface's address even when told
`--node-ip-address 127.0.0.1`, and then a client cannot connect; RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, for the
head and every client, keeps the head, raylet and workers on 127.0.0.1, and a client with RAY_AUTH_MODE=disabled
then runs tasks. The head runs in its own session (`ray start --block`); stopping it signals every process of that
session (Ray puts each worker in a process group of its own) and nothing else of Ray on the machine.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from zoo import settings

LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
"""for the head and every client: keep Ray on 127.0.0.1"""
CLIENT_ENV = {**LOOPBACK_ENV, "RAY_AUTH_MODE": "disabled"}
"""for a client of the test head"""
_START_S = 120.0  # a head takes 5-30 s to start on these 2 busy cores


@dataclass
class RayHead:
    """A running head: its Ray Client address and the `ray start` process whose session holds it."""

    address: str
    process: subprocess.Popen

    def pids(self) -> set[int]:
        """The head's processes, its session: raylet, GCS, client server, dashboard and agents, workers."""
        out = subprocess.run(["ps", "-eo", "pid=,sid="], capture_output=True, text=True, check=True).stdout
        return {int(pid) for pid, session in (line.split() for line in out.splitlines())
                if int(session) == self.process.pid}

    def listening(self) -> list[str]:
        """The local addresses the head's processes listen on (TCP), from `ss -ltnp`."""
        pids = self.pids()
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
        return [line.split()[3] for line in out.splitlines()
                if any(int(pid) in pids for pid in re.findall(r"pid=(\d+)", line))]

    def stop(self) -> None:
        """Stop the head and everything it started: SIGTERM to its session, SIGKILL to what lingers."""
        for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):  # the GCS ignores SIGTERM
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait_s
            while self.process.poll() is None or self.pids():  # poll() reaps `ray start` itself
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            else:
                return


def start_head(temp_dir: Path, cpus: int = 2) -> RayHead:
    """Start a head with `cpus` CPUs and its dashboard off on free loopback ports; return once a client can
    connect to it."""
    gcs_port, client_port, agent_port = _free_port(), _free_port(), _free_port()
    metric_ports = {"AUTOSCALER_METRIC_PORT": str(_free_port()), "DASHBOARD_METRIC_PORT": str(_free_port())}
    temp_dir.mkdir(parents=True, exist_ok=True)
    log = temp_dir / "ray-start.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # every fixed port of Ray's made free, so that two heads can run at once
            ["ray", "start", "--head", "--block", f"--num-cpus={cpus}", "--disable-usage-stats",
             "--include-dashboard=false", "--node-ip-address=127.0.0.1", f"--port={gcs_port}",
             f"--ray-client-server-port={client_port}", f"--dashboard-agent-listen-port={agent_port}",
             f"--temp-dir={temp_dir}", "--object-store-memory=300000000"],
            env={**os.environ, **LOOPBACK_ENV, **metric_ports, "PYTHONPATH": str(settings.REPOSITORY)},
            start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    head = RayHead(f"ray://127.0.0.1:{client_port}", process)
    deadline = time.monotonic() + _START_S
    while not _accepts(client_port):
        if process.poll() is not None or time.monotonic() > deadline:
            how = f"exited with {process.returncode}" if process.poll() is not None else f"did not start in {_START_S:g} s"
            head.stop()
            raise RuntimeError(f"the Ray head {how}; `ray start` said:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    return head


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
