"""The LangGraph peer: its virtualenv under var/ and one run of `peer_turn.py` in it."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

from django.conf import settings

PEER_DIR = Path(__file__).resolve().parent
REQUIREMENTS = PEER_DIR / "requirements.txt"
SCRIPT = PEER_DIR / "peer_turn.py"


def peer_python() -> Path:
    """The peer's interpreter, its virtualenv created (and its pinned packages installed) when missing or stale."""
    directory = Path(settings.BASE_DIR) / "var" / "bench-peer"
    python = directory / "bin" / "python"
    stamp = directory / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(directory)
    subprocess.run(  # noqa: S603 - pip of our own virtualenv, pinned requirements
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
        stdout=sys.stderr,
    )
    stamp.write_text(wanted)
    return python


def peer_run(
    *, python: Path, llm_url: str, merchant_url: str, merchant_token: str, dsn: str, turns: int, warmup: int
) -> dict:
    completed = subprocess.run(  # noqa: S603 - our own script
        [
            str(python),
            str(SCRIPT),
            "--llm-url",
            llm_url,
            "--merchant-url",
            merchant_url,
            "--merchant-token",
            merchant_token,
            "--dsn",
            dsn,
            "--turns",
            str(turns),
            "--warmup",
            str(warmup),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the LangGraph peer failed: {completed.stderr[-1500:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
