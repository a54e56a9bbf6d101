"""hftmm's risk layer: a chain of pluggable pre-trade checks and monitors, the same in backtest
and live (see docs/risk.md). Nautilus-free except ``actor.py``, the glue that runs it in a node."""

from hftmm.risk.chain import RiskChain
from hftmm.risk.intent import BUY, SELL, OrderIntent, RiskAction
from hftmm.risk.plugin import PluginConfig, RiskPlugin
from hftmm.risk.state import RiskState

__all__ = ["BUY", "SELL", "OrderIntent", "PluginConfig", "RiskAction", "RiskChain", "RiskPlugin", "RiskState"]
