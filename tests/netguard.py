"""Run child processes with networking disabled: HF_HUB_OFFLINE=1 and the socket guard in
fixtures/netguard (any connection beyond this machine logged and refused)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GUARD = Path(__file__).parent / "fixtures" / "netguard"


def guarded_env(folder: Path, **extra: str) -> dict[str, str]:
    """Environment for a guarded child: refusals logged to folder/net.log, each guarded process
    id to folder/guarded.pids; HOME is `folder`, so no user settings (e.g. ~/.streamlit) apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    path = os.pathsep.join(p for p in (str(GUARD), env.get("PYTHONPATH")) if p)
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=path, HOME=str(folder),
               POLICYQA_NET_LOG=str(folder / "net.log"),
               POLICYQA_NET_GUARD_READY=str(folder / "guarded.pids"), **extra)
    return env


def assert_guard_refuses(env: dict[str, str]) -> None:
    """The guard works in a child with `env`: a plain HTTP request is refused and logged (then the
    log is cleared), while a loopback connection is allowed through to the OS."""
    log = Path(env["POLICYQA_NET_LOG"])
    probe = subprocess.run(
        [sys.executable, "-c", "import socket, urllib.request\n"
         "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
         "except ConnectionRefusedError:\n    print('loopback allowed')\n"
         "urllib.request.urlopen('http://example.org', timeout=5)"],
        capture_output=True, text=True, env=env, timeout=60)
    assert probe.returncode != 0 and "network disabled by test guard" in probe.stderr, probe.stderr
    assert "loopback allowed" in probe.stdout
    assert "example.org" in log.read_text()
    log.unlink()


def net_attempts(env: dict[str, str]) -> str:
    """What the guard refused so far ("" for nothing)."""
    log = Path(env["POLICYQA_NET_LOG"])
    return log.read_text() if log.exists() else ""
