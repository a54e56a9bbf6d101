"""The risk plugin interface.

A plugin is a small class with a msgspec ``Config`` Struct (its parameters, validated from the
``risk.plugins`` entries of the run configuration) and up to three hooks:

- ``check(intent, state) -> str | None``: a pre-trade check on every new order and amendment;
  return the reason to veto, or None to pass. Cancels are never vetoed (they only reduce risk),
  so ``check`` sees them only to count them (e.g. message rates).
- ``on_timer(state) -> RiskAction | None``: runs every ``risk.timer_interval_s`` (off the order
  path): recompute limits, measures, allocations; ask for a trading-mode change.
- ``on_fill(state) -> RiskAction | None``: after a fill has been applied to the positions.

Plugins read the shared ``RiskState`` and may write only their own outputs into it
(``limit_scale``, ``allocation``, ``var``). They must not import NautilusTrader: the same plugin
runs in backtests, live and unit tests.

Writing one: subclass ``RiskPlugin``, declare ``Config``, implement the hooks you need, and list
it in the config as ``{"path": "my_package.my_module:MyCheck", ...params}``.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from hftmm.risk.intent import OrderIntent, RiskAction
from hftmm.risk.state import RiskState


class PluginConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of plugin parameter Structs (unknown keys are errors)."""


class RiskPlugin:
    """Base class of risk plugins; see the module docstring for the contract.

    Parameters
    ----------
    config : PluginConfig
        The plugin's validated parameters.
    """

    Config: ClassVar[type[PluginConfig]] = PluginConfig
    # Whether ``check`` should also see cancels (only message counters need them).
    sees_cancels: ClassVar[bool] = False

    def __init__(self, config: PluginConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        """The name vetoes and actions are recorded under (the class name)."""
        return type(self).__name__

    def check(self, intent: OrderIntent, state: RiskState) -> str | None:
        """Return why ``intent`` must not be sent, or None."""
        return None

    def on_timer(self, state: RiskState) -> RiskAction | None:
        """Periodic work; may ask for a trading-mode change."""
        return None

    def on_fill(self, state: RiskState) -> RiskAction | None:
        """After a fill; may ask for a trading-mode change."""
        return None

    # Which hooks a plugin overrides, so the chain calls only those (a per-order cost).
    @classmethod
    def overrides(cls, hook: str) -> bool:
        """Whether the subclass implements ``hook``."""
        return getattr(cls, hook) is not getattr(RiskPlugin, hook)
