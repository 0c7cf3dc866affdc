"""Source model: URL validation, credentials by reference, masking."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from videowall.config.sources import Source, mask_url, parse_sim_url, scrub, source_from_text


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:pa55@10.1.2.3:554/s1", "rtsp://admin:***@10.1.2.3:554/s1"),
        ("rtsps://u:p%40ss@cam/x", "rtsps://u:***@cam/x"),
        ("srt://host:9000?streamid=x", "srt://host:9000?streamid=x"),
        ("rtsp://user@cam/x", "rtsp://user@cam/x"),
        ("/srv/video/a.mp4", "/srv/video/a.mp4"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_scrub_masks_urls_and_named_secrets_in_free_text() -> None:
    text = "failed: 'rtsp://a:b1g-secret@h/x' with token s3cr&t (s3cr%26t)"
    out = scrub(text, "s3cr&t")
    assert "b1g-secret" not in out and "s3cr&t" not in out and "s3cr%26t" not in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "URL is empty"),
        ("rtsp://cam /x", "white space"),
        ("gopher://cam/x", "unsupported URL scheme"),
        ("rtsp:///x", "no host"),
        ("rtsp://cam:99999/x", "bad port"),
        ("sim://x?size=big", "size must look like"),
        ("sim://x?colour=red", "unknown sim parameter"),
        ("sim://x?size=10x10", "greater than or equal to 64"),
    ],
)
def test_bad_urls_are_rejected_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Source(id="c", url=url)
    assert message in str(err.value)


def test_ids_and_extra_fields_are_checked() -> None:
    with pytest.raises(ValidationError):
        Source(id="bad id!", url="rtsp://cam/x")
    with pytest.raises(ValidationError, match="Extra inputs"):
        Source.model_validate({"id": "c", "url": "rtsp://cam/x", "passwd": "x"})


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAM7_PW", "p@ss:word")
    src = Source(id="c7", url="rtsp://10.0.0.7/live", username="op", password_env="CAM7_PW")
    assert src.resolved_url() == "rtsp://op:p%40ss%3Aword@10.0.0.7/live"
    assert src.masked() == "rtsp://10.0.0.7/live"
    assert "p@ss:word" in src.secrets()
    monkeypatch.delenv("CAM7_PW")
    with pytest.raises(LookupError, match="CAM7_PW"):
        src.resolved_url()


def test_credentials_only_once() -> None:
    with pytest.raises(ValidationError, match="both in the URL"):
        Source(id="c", url="rtsp://a:b@cam/x", username="a")
    with pytest.raises(ValidationError, match="needs username"):
        Source(id="c", url="rtsp://cam/x", password_env="PW")


def test_sim_url_parameters() -> None:
    spec = parse_sim_url("sim://cam-3?size=1280x720&fps=30&label=North+Gate&codec=hevc")
    assert (spec.name, spec.width, spec.height, spec.fps) == ("cam-3", 1280, 720, 30)
    assert spec.label == "North Gate" and spec.codec == "hevc"


def test_source_from_text_expands_paths() -> None:
    assert source_from_text("~/a.mp4").url.startswith("/")
    assert source_from_text("rtsp://cam/x").url == "rtsp://cam/x"
