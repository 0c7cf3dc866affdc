"""Source model: URL validation, credentials by reference, masking."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from tests.video.credentials import leaks, passwords, typed_passwords, typed_users, users
from videowall.config.sources import (
    MissingPasswordError,
    Source,
    mask_url,
    parse_sim_url,
    scrub,
    source_from_text,
    split_url,
)


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


def test_an_unset_password_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAM7_PASSWORD", raising=False)
    src = Source(id="c7", url="rtsp://10.0.0.7/live", username="op", password_env="CAM7_PASSWORD")
    with pytest.raises(MissingPasswordError) as info:
        src.resolved_url()
    assert str(info.value) == "password variable CAM7_PASSWORD is not set"
    assert info.value.variable == "CAM7_PASSWORD"
    assert src.secrets() == ()  # nothing to hide, and no error either


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


# ---- credentials parsed as FFmpeg parses them, and masked everywhere ------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        # The reported case: a raw '@' in the password. FFmpeg takes the LAST '@' before
        # the host as the end of the user info, and so must the masking.
        ("rtsp://admin:Pa@ssw0rd@10.1.2.3/s1", "rtsp://admin:***@10.1.2.3/s1"),
        ("rtsp://ops@city.gov:Top-Secret@cam/x", "rtsp://ops@city.gov:***@cam/x"),
        ("rtsp://admin:a:b@c@cam:554/x?y=1#z", "rtsp://admin:***@cam:554/x?y=1#z"),
        ("rtsp://admin:p[w]@[fe80::1]:554/x", "rtsp://admin:***@[fe80::1]:554/x"),
        # FFmpeg would end the host at the raw '/': refused as a source (below), and
        # masked up to the last '@' wherever it is shown, because that is a password.
        ("rtsp://admin:pa/ss@cam/x", "rtsp://admin:***@cam/x"),
        ("rtsp://admin:@/pa@ss@cam/x", "rtsp://admin:***@cam/x"),
        ("error 'rtsp://u:Pa@ss@h/x'; and 'http://v:Pw2@ssw0rd@k'",
         "error 'rtsp://u:***@h/x'; and 'http://v:***@k'"),
    ],
)
def test_mask_url_finds_credentials_like_ffmpeg(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_url_parts_follow_ffmpeg() -> None:
    parts = split_url("rtsp://ops@city:Pa@ss:w0rd@[fe80::1]:8554/a/b?c=d@e#f")
    assert (parts.user, parts.password) == ("ops@city", "Pa@ss:w0rd")
    assert (parts.host, parts.port_text, parts.rest) == ("fe80::1", "8554", "/a/b?c=d@e#f")


@pytest.mark.parametrize("url", ["rtsp://admin:12/S3cr3t@cam/x", "rtsp://admin:@/S3cr3t@cam/x",
                                 "rtsp://cam/live@S3cr3t"])
def test_an_at_sign_after_the_host_is_refused_without_repeating_the_url(url: str) -> None:
    with pytest.raises(ValidationError) as err:
        Source(id="c", url=url)
    assert "percent-encode" in str(err.value) and "S3cr3t" not in str(err.value)


def test_repr_of_a_source_masks_its_urls() -> None:
    src = Source(id="c", url="rtsp://admin:Pa@ss1@cam/x", sub_url="rtsp://admin:Pa@ss2@cam/y")
    for text in (repr(src), str(src)):
        assert "Pa@ss" not in text and "ss1" not in text and "ss2" not in text, text
        assert "admin:***@cam/x" in text and "admin:***@cam/y" in text


def test_validation_errors_never_quote_the_url() -> None:
    with pytest.raises(ValidationError) as err:
        Source(id="c", url="rtsp://admin:Top-Secret@cam:99999/x")
    assert "bad port" in str(err.value) and "Top-Secret" not in str(err.value)


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    # Not monkeypatch: hypothesis runs many examples within one test function.
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


@given(user=users, password=passwords)
@settings(max_examples=300, deadline=None)
def test_credentials_by_reference_reach_ffmpeg_intact_and_never_show(user: str,
                                                                    password: str) -> None:
    src = Source(id="c", url="rtsp://cam.example:554/live?x=1", sub_url="rtsp://cam.example/s",
                 username=user, password_env="VW_TEST_PW")
    with _env("VW_TEST_PW", password):
        resolved = src.resolved_url()
        secrets = src.secrets()
    parts = split_url(resolved)  # what FFmpeg reads out of the URL the decoder opens
    assert unquote(parts.user) == user and unquote(parts.password) == password
    assert (parts.hostport, parts.rest) == ("cam.example:554", "/live?x=1")
    ffmpeg_error = f"[Errno 1] Server returned 401 Unauthorized: '{resolved}'; {resolved}"
    for shown in (src.masked(), src.masked(sub=True), mask_url(resolved),
                  scrub(ffmpeg_error, *secrets), scrub(password, *secrets)):
        assert not leaks(password, shown), shown


@given(user=users, password=passwords)
@settings(max_examples=300, deadline=None)
def test_encoded_credentials_in_the_url_are_masked_wherever_they_appear(user: str,
                                                                        password: str) -> None:
    encoded = f"rtsp://{quote(user, safe='')}:{quote(password, safe='')}@10.0.0.7/live"
    src = Source(id="c", url=encoded)
    for text in (mask_url(encoded), src.masked(), repr(src),
                 scrub(f"open '{encoded}' failed", *src.secrets())):
        assert not leaks(password, text), text


@given(user=typed_users, password=typed_passwords)
@settings(max_examples=300, deadline=None)
def test_credentials_typed_unencoded_are_read_and_masked_as_ffmpeg_does(user: str,
                                                                       password: str) -> None:
    raw = f"rtsp://{user}:{password}@10.0.0.7:554/live"
    assert split_url(raw).password == password and split_url(raw).user == user
    assert mask_url(raw) == f"rtsp://{user}:***@10.0.0.7:554/live"
    src = Source(id="c", url=raw)
    for text in (mask_url(raw), src.masked(), repr(src),
                 scrub(f"'{raw}': refused", *src.secrets())):
        assert not leaks(password, text), text


@given(password=passwords)
@settings(max_examples=100, deadline=None)
def test_refused_urls_never_quote_the_password(password: str) -> None:
    for url in (f"rtsp://admin:{password}@cam:99999/x", f"gopher://admin:{password}@cam/x",
                f"rtsp://admin:{password}@/x"):
        try:
            Source(id="c", url=url)
        except ValidationError as err:
            assert not leaks(password, str(err)), str(err)
        if not any(c.isspace() for c in url):  # a URL in text ends at white space
            assert not leaks(password, mask_url(url)), mask_url(url)
