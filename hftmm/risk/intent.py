"""What the risk chain judges: an order intent, and the verdict written back onto it.

Plain msgspec Structs with Nautilus-free fields (strings, ints, floats) so the chain, its plugins
and the audit trail run the same in a backtest, live, and in unit tests.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec

BUY, SELL = 1, -1

IntentKind = Literal["new", "modify", "cancel"]


class OrderIntent(msgspec.Struct, kw_only=True):
    """One order message a strategy wants to send, before it leaves the strategy.

    Attributes
    ----------
    kind : "new", "modify" or "cancel"
        A new order, an amendment of a working one, or a cancel.
    strategy_id, instrument_id, client_order_id : str
        Who sends it, on what, and which order.
    side : int
        +1 buy, -1 sell.
    quantity : float
        Shares still to trade: the order quantity of a new order, the new remaining (leaves)
        quantity of an amendment, the leaves being cancelled for a cancel.
    price : float
        Limit price in dollars (NaN for a market order; an amendment's new price).
    ts_ns : int
        Time of the intent, UTC nanoseconds.
    post_only, reduce_only : bool
        Order flags.
    allowed : bool
        The verdict (set by the chain).
    plugin, reason : str
        Which check vetoed it and why ("" when allowed).
    """

    kind: IntentKind
    strategy_id: str
    instrument_id: str
    client_order_id: str
    side: int
    quantity: float
    price: float = math.nan
    ts_ns: int = 0
    post_only: bool = False
    reduce_only: bool = False
    allowed: bool = True
    plugin: str = ""
    reason: str = ""

    def veto(self, plugin: str, reason: str) -> None:
        """Mark the intent refused by ``plugin`` for ``reason``."""
        self.allowed, self.plugin, self.reason = False, plugin, reason

    @property
    def is_market(self) -> bool:
        """A market order (no limit price)."""
        return math.isnan(self.price)


class RiskAction(msgspec.Struct, frozen=True, kw_only=True):
    """A change of trading mode a monitor asks for.

    Attributes
    ----------
    mode : "ACTIVE", "REDUCING" or "HALTED"
        HALTED cancels everything and refuses all new orders until an explicit resume;
        REDUCING only lets through orders that shrink a position; ACTIVE lifts REDUCING.
    plugin, reason : str
        Who asks and why (kept in the audit trail and the run folder).
    """

    mode: Literal["ACTIVE", "REDUCING", "HALTED"]
    plugin: str
    reason: str
