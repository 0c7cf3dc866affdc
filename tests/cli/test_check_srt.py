"""`videowall check` on SRT cameras: refused, with what to install, where SRT cannot be
received; a valid srt:// URL passes and a bad one is reported at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from videowall.cli import main as cli_main
from videowall.video import relay

SITE = """\
version: 1
cameras:
  - id: cam-01
    url: rtsp://10.0.0.7/stream1
  - id: drone-2
    url: srt://10.0.0.9:9000?mode=caller&latency=200&passphrase=not-shown-123
"""


def test_srt_without_gstreamer_fails_check_with_the_packages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    monkeypatch.setattr(relay, "SYSTEM_PYTHON", str(tmp_path / "no-python3"))
    assert cli_main.main(["check", "--no-plugins", str(site)]) == 1
    out = capsys.readouterr().out
    assert f"{site}: error: cameras[1] (drone-2): SRT needs Debian's GStreamer" in out
    assert "apt-get install python3-gi" in out and "gstreamer1.0-plugins-bad" in out
    assert "cam-01" not in out and "not-shown-123" not in out


@pytest.mark.skipif(not relay.srt_support().ok, reason=relay.srt_support().reason)
def test_srt_with_gstreamer_passes_check(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    assert cli_main.main(["check", "--no-plugins", str(site)]) == 0
    assert capsys.readouterr().out.strip() == f"{site}: ok"


def test_a_bad_srt_url_is_reported_at_its_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE.replace("latency=200", "latency=200000"))
    assert cli_main.main(["check", "--no-plugins", str(site)]) == 1
    out = capsys.readouterr().out
    assert f"{site}:6: cameras[1].url:" in out and "latency=200 here" in out
    assert "not-shown-123" not in out
