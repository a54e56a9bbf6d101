"""Small builders for risk unit tests: a chain with a quoted market and intents."""

from __future__ import annotations

import math

from hftmm.risk.chain import RiskChain
from hftmm.risk.config import build_plugins
from hftmm.risk.intent import OrderIntent

IID = "ACME.XNYS"
T0 = 1_710_163_800_000_000_000
_n = 0


def chain_with(*specs: dict, bid: float = 50.00, ask: float = 50.02, size: float = 500.0) -> RiskChain:
    chain = RiskChain(build_plugins(list(specs)))
    chain.on_quote(IID, bid, ask, size, size, T0)
    chain.state.now_ns = T0
    return chain


def intent(side: int, qty: float, price: float = math.nan, kind: str = "new", coid: str | None = None,
           iid: str = IID, ts: int = T0, strategy: str = "S-1", reduce_only: bool = False) -> OrderIntent:
    global _n
    _n += 1
    return OrderIntent(kind=kind, strategy_id=strategy, instrument_id=iid, client_order_id=coid or f"O-{_n}",
                       side=side, quantity=qty, price=price, ts_ns=ts, reduce_only=reduce_only)
