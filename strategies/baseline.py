"""A strategy that subscribes to the same data as the market makers and never trades.

It is the baseline of the backtest benchmarks (engine cost of the data path alone) and a quick
way to check that a catalog day replays: it counts what it receives.
"""

from __future__ import annotations

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy


class BookWatcherConfig(StrategyConfig, frozen=True, forbid_unknown_fields=True):
    """Configuration of ``BookWatcher``; the trading window fields are accepted and unused."""

    instrument_id: InstrumentId
    trading_start_ns: int | None = None
    trading_end_ns: int | None = None
    session_close_ns: int | None = None


class BookWatcher(Strategy):
    """Maintains the L2 book and counts book events, quotes and trades; sends no orders."""

    def __init__(self, config: BookWatcherConfig) -> None:
        super().__init__(config)
        self.book_events = 0
        self.quotes = 0
        self.trades = 0

    def on_start(self) -> None:
        """Subscribe to the book, the NBBO and the trades."""
        iid = self.config.instrument_id
        self.subscribe_order_book_deltas(iid, book_type=BookType.L2_MBP, managed=True)
        self.subscribe_quote_ticks(iid)
        self.subscribe_trade_ticks(iid)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        """Count a book event."""
        self.book_events += 1

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """Count an NBBO update."""
        self.quotes += 1

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Count a trade."""
        self.trades += 1
