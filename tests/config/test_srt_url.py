"""srt:// URLs: caller and listener, latency, passphrase, key length, checked with reasons;
the passphrase masked wherever a URL is shown and never repeated in an error."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from videowall.config.sources import Source, mask_url, scrub
from videowall.config.srt_url import SrtParams, parse_srt_url

SECRET = "s3cret-pass&phrase"  # '&' percent-encoded in the URL
URL_SECRET = "s3cret-pass%26phrase"


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("srt://drone.local:9000", SrtParams("caller", "drone.local", 9000)),
        ("srt://10.0.0.5:9000?mode=caller&latency=200",
         SrtParams("caller", "10.0.0.5", 9000, latency_ms=200)),
        ("srt://:9000?mode=listener", SrtParams("listener", "", 9000)),
        ("srt://0.0.0.0:9000?mode=LISTENER", SrtParams("listener", "", 9000)),
        ("srt://127.0.0.1:9000?mode=listener&latency=0",
         SrtParams("listener", "127.0.0.1", 9000, latency_ms=0)),
        (f"srt://[::1]:9000?passphrase={URL_SECRET}&pbkeylen=32&streamid=%23!::r=live",
         SrtParams("caller", "::1", 9000, passphrase=SECRET, pbkeylen=32,
                   streamid="#!::r=live")),
    ],
)
def test_srt_urls_are_read(url: str, params: SrtParams) -> None:
    assert parse_srt_url(url) == params
    assert Source(id="d", url=url).url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("srt://drone.local", "needs a port"),
        ("srt://drone.local:0", "bad port"),
        ("srt://:9000", "SRT caller needs the host"),
        ("srt://0.0.0.0:9000?mode=caller", "SRT caller needs the host"),
        ("srt://h:9000?mode=rendezvous", "caller or listener"),
        ("srt://h:9000?latency=200000", "latency=200 here"),  # FFmpeg's microseconds
        ("srt://h:9000?latency=fast", "whole milliseconds"),
        ("srt://h:9000?passphrase=short", "10 to 79 characters, this one has 5"),
        ("srt://h:9000?pbkeylen=16", "pbkeylen needs a passphrase"),
        ("srt://h:9000?passphrase=long-enough-1&pbkeylen=20", "16, 24 or 32"),
        ("srt://h:9000?timeout=5", "unknown SRT parameter 'timeout'"),
        ("srt://h:9000?latency=20&latency=40", "given twice"),
        ("srt://h:9000?latency", "needs a value"),
        ("srt://h:9000/live", "no path"),
        ("srt://user:pw@h:9000", "no user name or password"),
        ("srt://h:9000?streamid=" + "x" * 513, "longer than 512"),
    ],
)
def test_bad_srt_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Source(id="d", url=url)
    assert message in str(err.value)


def test_the_passphrase_is_never_repeated_in_errors() -> None:
    for url in (f"srt://h:9000?passphrase={URL_SECRET}&pbkeylen=7",
                f"srt://h:9000?passphrase={URL_SECRET}&mode=x",
                "srt://h:9000?passphrase=tiny"):
        with pytest.raises(ValidationError) as err:
            Source(id="d", url=url)
        text = str(err.value)
        assert "pbkeylen" in text or "mode" in text or "characters" in text
        assert "s3cret" not in text and "tiny" not in text


def test_the_passphrase_is_masked_and_scrubbed() -> None:
    url = f"srt://h:9000?mode=caller&passphrase={URL_SECRET}&latency=80"
    assert mask_url(url) == "srt://h:9000?mode=caller&passphrase=***&latency=80"
    assert mask_url(f"failed: {url}: I/O error") == \
        "failed: srt://h:9000?mode=caller&passphrase=***&latency=80: I/O error"
    source = Source(id="d", url=url)
    assert SECRET not in repr(source) and URL_SECRET not in repr(source)
    assert source.masked() == mask_url(url)
    # A library's message that repeats the passphrase alone, decoded or not.
    assert scrub(f"bad secret {SECRET} / {URL_SECRET}", *source.secrets()) == \
        "bad secret *** / ***"


def test_listener_and_caller_say_where() -> None:
    assert parse_srt_url("srt://:9000?mode=listener").where == "port 9000"
    assert parse_srt_url("srt://10.0.0.2:9000?mode=listener").where == "port 9000 on 10.0.0.2"
    assert parse_srt_url("srt://cam:9000").where == "cam:9000"
