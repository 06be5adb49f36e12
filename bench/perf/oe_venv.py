"""The OpenEvolve 0.4.0 venv the comparison scripts drive (bench/perf/.openevolve-venv, gitignored)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OE_VENV = Path(__file__).resolve().parent / ".openevolve-venv"
OE_PY = OE_VENV / "bin" / "python"


def ensure_openevolve() -> None:
    """Create the OpenEvolve venv with openevolve==0.4.0 from PyPI (once)."""
    if OE_PY.exists():
        ok = subprocess.run([str(OE_PY), "-c", "import openevolve"], capture_output=True).returncode == 0
        if ok:
            return
    print("creating", OE_VENV, "with openevolve==0.4.0 ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(OE_VENV)], check=True)
    subprocess.run([str(OE_PY), "-m", "pip", "install", "-q", "openevolve==0.4.0"], check=True)
