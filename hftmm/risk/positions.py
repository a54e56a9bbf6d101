"""Real-time positions from fills: net quantity, average price, realized and unrealized PnL.

Kept per (strategy, instrument) and summed per instrument. Average-cost accounting: adding to a
position moves the average price; reducing realizes ``(fill - average) * quantity`` with the
position's sign; crossing through zero realizes the closed part and opens the rest at the fill
price. Fees are tracked separately (a maker rebate is a negative fee).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class Position:
    """One position. Quantities in shares (signed), prices and PnL in dollars."""

    quantity: float = 0.0
    avg_price: float = 0.0
    realized: float = 0.0
    fees: float = 0.0
    traded: float = 0.0

    def fill(self, side: int, quantity: float, price: float, fee: float = 0.0) -> float:
        """Apply a fill; return the PnL it realized."""
        signed = side * quantity
        q = self.quantity
        realized = 0.0
        if q == 0 or (q > 0) == (signed > 0):
            total = q + signed
            self.avg_price = (self.avg_price * abs(q) + price * quantity) / abs(total)
            self.quantity = total
        else:
            closed = min(abs(q), quantity)
            realized = (price - self.avg_price) * closed * (1 if q > 0 else -1)
            rest = q + signed
            if abs(rest) < 1e-9:
                self.quantity, self.avg_price = 0.0, 0.0
            elif (rest > 0) == (q > 0):
                self.quantity = rest
            else:
                self.quantity, self.avg_price = rest, price
        self.realized += realized
        self.fees += fee
        self.traded += quantity
        return realized

    def unrealized(self, mark: float) -> float:
        """Mark-to-``mark`` PnL of the open quantity (0 flat or without a mark)."""
        if self.quantity == 0 or not math.isfinite(mark):
            return 0.0
        return (mark - self.avg_price) * self.quantity

    def total(self, mark: float) -> float:
        """Realized plus unrealized, net of fees."""
        return self.realized + self.unrealized(mark) - self.fees


class PositionBook:
    """Positions per (strategy, instrument), and per instrument over all strategies."""

    __slots__ = ("by_strategy", "by_instrument")

    def __init__(self) -> None:
        self.by_strategy: dict[tuple[str, str], Position] = {}
        self.by_instrument: dict[str, Position] = {}

    def fill(self, strategy_id: str, instrument_id: str, side: int, quantity: float, price: float, fee: float = 0.0) -> None:
        """Apply one fill to the strategy's and the instrument's position."""
        key = (strategy_id, instrument_id)
        pos = self.by_strategy.get(key)
        if pos is None:
            pos = self.by_strategy[key] = Position()
        pos.fill(side, quantity, price, fee)
        inst = self.by_instrument.get(instrument_id)
        if inst is None:
            inst = self.by_instrument[instrument_id] = Position()
        inst.fill(side, quantity, price, fee)

    def quantity(self, instrument_id: str) -> float:
        """Net shares of the instrument over all strategies."""
        pos = self.by_instrument.get(instrument_id)
        return pos.quantity if pos is not None else 0.0

    def pnl(self, marks: dict[str, float]) -> float:
        """Total PnL (realized + unrealized - fees) over all instruments, marked at ``marks``."""
        return sum(p.total(marks.get(i, math.nan)) for i, p in self.by_instrument.items())

    def snapshot(self, marks: dict[str, float]) -> list[dict[str, float | str]]:
        """Rows per strategy and instrument, for reports and the audit trail."""
        return [
            {"strategy_id": s, "instrument_id": i, "quantity": p.quantity, "avg_price": p.avg_price,
             "realized": p.realized, "unrealized": p.unrealized(marks.get(i, math.nan)), "fees": p.fees,
             "traded": p.traded}
            for (s, i), p in sorted(self.by_strategy.items())
        ]
