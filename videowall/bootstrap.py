"""Set up a fresh Debian machine and run the demo or the test suite (stdlib only).

Usage (from the repository root, with any Python >= 3.11):

    python3 -m videowall.bootstrap demo [ARGS...]   # venv + install, then `videowall demo`
    python3 -m videowall.bootstrap test [PYTEST ARGS...]  # apt + venv + .[test], then pytest
                                                          # (in parallel: -n 0 to run in one)

As root it installs the Debian packages it needs with apt-get; otherwise it prints the
exact apt-get command and carries on (tests that need a missing package then skip).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("VIDEOWALL_VENV", ROOT / ".venv"))

# Runtime libraries the PyQt6 wheel links against but does not bundle.
QT_RUNTIME = [
    "libgl1", "libegl1", "libxkbcommon0", "libxkbcommon-x11-0", "libfontconfig1",
    "libdbus-1-3", "libglib2.0-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1",
    "libxcb-shape0", "libxcb-render-util0", "libxcb-image0", "libxcb-xinerama0",
    "libgl1-mesa-dri", "fonts-dejavu-core",
]
# Debian's GStreamer RTSP server: the real server the tests and `bench decode` use.
RTSP_SERVER = [
    "python3-gi", "gir1.2-gst-rtsp-server-1.0", "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-ugly", "gstreamer1.0-plugins-bad",
]
# Xvfb for the wall's tests on virtual screens; Debian's ffmpeg as the real SRT, RTMP,
# MPEG-TS and HLS sender the transport tests start on loopback; mpv, the peer the quick
# `bench wall --peer mpv` and `bench latency` runs of the tests compare the wall with.
TEST_EXTRA = ["xvfb", "ffmpeg", "mpv"]


def _say(msg: str) -> None:
    print(f"[bootstrap] {msg}", file=sys.stderr, flush=True)


def _missing_debs(names: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        return []
    missing = []
    for name in names:
        res = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name],
            capture_output=True, text=True, check=False,
        )
        if "install ok installed" not in res.stdout:
            missing.append(name)
    return missing


def _venv_module_works() -> bool:
    # Debian ships `venv` without ensurepip unless pythonX.Y-venv is installed.
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        return False
    return True


def install_debs(names: list[str]) -> None:
    """Install missing Debian packages as root, or print the command for a person."""
    if not _venv_module_works() and not (VENV / "bin" / "python").exists():
        names = [*names, f"python3.{sys.version_info.minor}-venv"]
    missing = _missing_debs(names)
    if not missing:
        return
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        _say("missing Debian packages; install them with:")
        _say("  sudo apt-get update && sudo " + " ".join(cmd))
        return
    _say("installing Debian packages: " + " ".join(missing))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*cmd, "-qq"], check=True, env=env)


def ensure_venv(extra: str | None) -> Path:
    """Create the venv and install the project (with an extra) when pyproject changed."""
    py = VENV / "bin" / "python"
    if not py.exists():
        _say(f"creating virtual environment {VENV}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    spec = f".[{extra}]" if extra else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + spec.encode()).hexdigest()
    stamp = VENV / ".videowall-installed"
    if stamp.exists() and stamp.read_text().strip() == digest:
        return py
    _say(f"installing {spec} into {VENV}")
    pip = [str(py), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "-U", "pip"], check=True, cwd=ROOT)
    subprocess.run([*pip, "install", "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(digest)
    return py


def parallel(rest: list[str]) -> list[str]:
    """pytest-xdist's workers, one per core up to 4, unless the arguments choose.

    Many tests wait on servers, sockets and child processes: two workers on two cores ran
    the suite in 4:52 instead of 9:30 on a loaded machine. Ask for `-n 0` to run in one.
    """
    if "no:xdist" in rest or any(a.startswith(("-n", "--numprocesses", "--dist"))
                                  for a in rest):
        return []
    return ["-n", "auto", "--maxprocesses", "4"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    what, rest = args[0], args[1:]
    if what == "test":
        install_debs(QT_RUNTIME + RTSP_SERVER + TEST_EXTRA)
        py = ensure_venv("test")
        env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
        cmd = [str(py), "-m", "pytest", *parallel(rest), *rest]
        _say(" ".join(cmd))
        return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
    install_debs(QT_RUNTIME)
    py = ensure_venv(None)
    cmd = [str(py), "-m", "videowall", "demo", *rest]
    _say(" ".join(cmd))
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
