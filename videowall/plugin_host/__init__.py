"""Plugin host: discovers panel plugins, isolates their failures and builds their tiles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videowall.plugin_host.discovery import GROUP, PluginHost, PluginInfo, discover
from videowall.plugin_host.excepthook import install_excepthook

if TYPE_CHECKING:
    from videowall.plugin_host.builder import WallPanelBuilder, make_panel_builder

__all__ = ["GROUP", "PluginHost", "PluginInfo", "WallPanelBuilder", "discover",
           "install_excepthook", "make_panel_builder"]


def __getattr__(name: str) -> Any:
    # The builder pulls in the views (Qt, video); `videowall plugins` needs only discovery.
    if name in ("make_panel_builder", "WallPanelBuilder"):
        from videowall.plugin_host import builder

        return getattr(builder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
