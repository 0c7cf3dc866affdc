"""Offline HTML for folium maps: vendored Leaflet assets inlined, remote references refused."""

from __future__ import annotations

import base64
import functools
import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

from branca.element import Element, Figure, Link

LEAFLET_VERSION = "1.9.4"

_ASSETS = files("videowall.export") / "assets"
_CSS_IMAGE = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(
    r"""url\(\s*['"]?\s*(?:https?:)?//|@import\s+(?:url\()?\s*['"]?\s*(?:https?:)?//""",
    re.IGNORECASE,
)
_URL_ATTRIBUTES = frozenset({"src", "href", "srcset", "poster", "data", "action", "background"})


def asset_bytes(name: str) -> bytes:
    """A vendored file from `videowall/export/assets/`, e.g. `leaflet.js`."""
    return _ASSETS.joinpath(name).read_bytes()


def asset_text(name: str) -> str:
    return asset_bytes(name).decode("utf-8")


@functools.cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its `url(images/...)` references turned into data URIs."""

    def data_uri(match: re.Match[str]) -> str:
        png = base64.b64encode(asset_bytes(match.group(2))).decode("ascii")
        return f"url(data:image/png;base64,{png})"

    return _CSS_IMAGE.sub(data_uri, asset_text("leaflet.css"))


def js_literal(value: Any) -> str:
    """JSON for use inside `<script>`: cannot close the script or open an HTML comment."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("'", "\\u0027"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


class RawHtml(Element):
    """Markup rendered verbatim: never passed through Jinja (vendored code, escaped data)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def inline_script(code: str, label: str) -> RawHtml:
    if re.search(r"</script", code, re.IGNORECASE):
        raise ValueError(f"{label}: cannot inline code that contains '</script'")
    return RawHtml(f"<script>/* {label} (inlined) */\n{code}\n</script>\n")


def inline_style(css: str, label: str) -> RawHtml:
    if re.search(r"</style", css, re.IGNORECASE):
        raise ValueError(f"{label}: cannot inline a stylesheet that contains '</style'")
    return RawHtml(f"<style>/* {label} (inlined) */\n{css}\n</style>\n")


def is_remote(url: str) -> bool:
    return bool(_REMOTE.match(url))


class _OfflineHeader(Element):
    """The `<head>` of an OfflineFigure: drops the CDN links folium's elements add."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped: list[str] = []

    def add_child(
        self, child: Element, name: str | None = None, index: int | None = None
    ) -> Element:
        if isinstance(child, Link) and is_remote(child.url):
            if child.url not in self.dropped:
                self.dropped.append(child.url)
            return self
        return super().add_child(child, name=name, index=index)


class OfflineFigure(Figure):
    """A folium root whose header carries inlined Leaflet instead of CDNs.

    jQuery, Bootstrap, Font Awesome and awesome-markers links are dropped, so only elements
    that need nothing but Leaflet may be used on it (no folium Popup/Icon; see briefing).
    """

    def __init__(self, title: str | None = None) -> None:
        super().__init__(title=title)
        header = _OfflineHeader()
        header._parent = self
        for name, child in self.header._children.items():
            header.add_child(child, name=name)
        self.header = header
        header.add_child(inline_style(leaflet_css(), f"Leaflet {LEAFLET_VERSION} CSS"),
                         name="inline_leaflet_css")
        header.add_child(inline_script(asset_text("leaflet.js"), f"Leaflet {LEAFLET_VERSION}"),
                         name="inline_leaflet_js")

    @property
    def dropped_links(self) -> list[str]:
        """The remote script/stylesheet URLs folium wanted and did not get."""
        header = self.header
        return list(header.dropped) if isinstance(header, _OfflineHeader) else []


class _ReferenceFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        for key, value in attrs:
            if value is None:
                continue
            if key in _URL_ATTRIBUTES and any(is_remote(v.split()[0]) for v in value.split(",")
                                              if v.strip()):
                self.found.append(f"<{tag} {key}={value!r}>")
            elif key == "style" and _CSS_REMOTE.search(value):
                self.found.append(f"<{tag} style={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag == "style":
            for match in _CSS_REMOTE.finditer(data):
                self.found.append(f"<style> {data[match.start():match.start() + 80]!r}")


def remote_references(html: str) -> list[str]:
    """Places in the markup where a browser would fetch something over the network.

    Attributes (`src`, `href`, ...) and CSS (`url(...)`, `@import`) only; URLs inside script
    text (a user's tile server, Leaflet's attribution link) are not fetched by the page itself.
    """
    finder = _ReferenceFinder()
    finder.feed(html)
    finder.close()
    return finder.found
