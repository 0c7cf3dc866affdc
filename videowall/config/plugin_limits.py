"""How long a plugin may hold the wall's GUI thread before it is quarantined."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PluginLimits(BaseModel):
    """The plugin watchdog's limits (the site's `plugin_limits:`). A plugin whose single
    call (a callback, a guarded slot or timer, building or painting a panel) takes
    `call_s` or longer, or whose calls add up to `budget_s` within `window_s`, is
    quarantined: its panels become error tiles naming it and the time it took."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_s: float = Field(0.5, ge=0.05, le=60, allow_inf_nan=False,
                          description="one call at least this long quarantines the plugin "
                          "(the wall stood still for that long)")
    budget_s: float = Field(2.0, ge=0.05, le=600, allow_inf_nan=False,
                            description="the plugin's calls adding up to this many seconds "
                            "within window_s quarantine it")
    window_s: float = Field(10.0, ge=1, le=3600, allow_inf_nan=False,
                            description="the sliding window of budget_s, in seconds")

    @model_validator(mode="after")
    def _budget_fits(self) -> PluginLimits:
        if self.budget_s > self.window_s:
            raise ValueError(f"budget_s ({self.budget_s:g}) cannot exceed window_s "
                             f"({self.window_s:g})")
        return self
