"""Positions and PnL rebuilt from a run's events alone, checked against its recorded reports.

The fills come from the Nautilus event stream (``stream/**/order_filled_*.feather``), the marks
from the recorded NBBO (``market.parquet`` of a backtest, the last recorded quote tick of a live
run); positions are rebuilt with hftmm's average-cost
position keeper (``hftmm.risk.positions``). Each instrument's net position, realized PnL (net of
fees, as Nautilus reports it), fees and unrealized PnL (the open position marked where it would
close: at the bid when long, the ask when short) are compared with ``summary.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
from hftmm.eventlog.recorded import read_stream, recorded_quotes
from hftmm.risk.positions import PositionBook

TOLERANCE = 0.005  # dollars: Nautilus rounds money to the cent


class ProjectionError(ValueError):
    """The run folder lacks what a projection needs (names the file)."""


@dataclass(frozen=True)
class ProjectedPosition:
    """One instrument's rebuilt figures next to the recorded ones."""

    instrument_id: str
    quantity: float
    recorded_quantity: float
    realized: float
    recorded_realized: float
    fees: float
    recorded_fees: float
    unrealized: float
    recorded_unrealized: float
    fills: int

    @property
    def matches(self) -> bool:
        """Every figure agrees (money within half a cent)."""
        return (self.quantity == self.recorded_quantity
                and abs(self.realized - self.recorded_realized) <= TOLERANCE
                and abs(self.fees - self.recorded_fees) <= TOLERANCE
                and abs(self.unrealized - self.recorded_unrealized) <= TOLERANCE)


def stream_fills(run_dir: Path) -> pd.DataFrame:
    """The ``OrderFilled`` events of the run's stream, in event order."""
    # A backtest's recorder writes order_filled_0.feather; Nautilus's live writer names its files
    # order_filled_<creation ns>.feather (several when it rotates).
    files = sorted((Path(run_dir) / "stream").glob("**/order_filled_*.feather"))
    if not files:
        if not (Path(run_dir) / "stream").exists():
            raise ProjectionError(f"{run_dir}/stream: the run recorded no event stream (backtest.event_stream = 'off')")
        return pd.DataFrame(columns=["strategy_id", "instrument_id", "order_side", "last_qty", "last_px", "commission", "ts_event"])
    tables = []
    for path in files:
        table = read_stream(path)  # a live node's file may end in a batch cut by a crash
        if table is not None:
            tables.append(table.to_pandas())
    if not tables:
        return pd.DataFrame(columns=["strategy_id", "instrument_id", "order_side", "last_qty", "last_px", "commission", "ts_event"])
    df = pd.concat(tables, ignore_index=True)
    return df.sort_values("ts_event", kind="stable").reset_index(drop=True)


def _money(text: str) -> float:
    return float(Decimal(str(text).split()[0]))


def project_positions(run_dir: Path) -> list[ProjectedPosition]:
    """Rebuild every instrument's position from the stream and compare with ``summary.json``."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        raise ProjectionError(f"{summary_path}: missing (not a finished run folder)")
    summary = json.loads(summary_path.read_text())
    fills = stream_fills(run_dir)
    book = PositionBook()
    counts: dict[str, int] = {}
    # Nautilus books each fill's realized PnL as Money, rounded to the cent: so does the check.
    realized_cents: dict[str, float] = {}
    for row in fills.itertuples(index=False):
        iid, sid = str(row.instrument_id), str(row.strategy_id)
        side = 1 if str(row.order_side) == "BUY" else -1
        before = book.by_strategy[(sid, iid)].realized if (sid, iid) in book.by_strategy else 0.0
        book.fill(sid, iid, side, float(Decimal(row.last_qty)), float(Decimal(row.last_px)), _money(row.commission))
        realized_cents[iid] = realized_cents.get(iid, 0.0) + round(book.by_strategy[(sid, iid)].realized - before, 2)
        counts[iid] = counts.get(iid, 0) + 1
    marks = _closing_marks(run_dir, book)
    out = []
    for iid, recorded in summary["per_instrument"].items():
        pos = book.by_instrument.get(iid)
        quantity = pos.quantity if pos else 0.0
        out.append(ProjectedPosition(
            instrument_id=iid, quantity=quantity, recorded_quantity=float(recorded["final_position"]),
            realized=(realized_cents[iid] - pos.fees) if pos else 0.0, recorded_realized=float(recorded["realized_pnl"]),
            fees=pos.fees if pos else 0.0, recorded_fees=float(recorded["fees"]),
            unrealized=pos.unrealized(marks.get(iid, math.nan)) if pos else 0.0,
            recorded_unrealized=float(recorded["unrealized_pnl"]), fills=counts.get(iid, 0)))
    return out


def _closing_marks(run_dir: Path, book: PositionBook) -> dict[str, float]:
    """The last recorded NBBO side a position would close at (bid when long, ask when short):
    from ``market.parquet`` (a backtest) or the last quote tick the node received (a live run's
    ``market_data/``: the quote its portfolio last marked at)."""
    path = run_dir / "market.parquet"
    marks = {}
    if path.is_file():
        market = pd.read_parquet(path).sort_values("ts_event", kind="stable")
        last = market.groupby("instrument_id").tail(1).set_index("instrument_id")
        for iid, pos in book.by_instrument.items():
            if iid in last.index and pos.quantity:
                marks[iid] = float(last.at[iid, "bid_price" if pos.quantity > 0 else "ask_price"])
        return marks
    for iid, pos in book.by_instrument.items():
        quotes = recorded_quotes(run_dir, iid)
        if len(quotes) and pos.quantity:
            marks[iid] = float(quotes["bid" if pos.quantity > 0 else "ask"].iloc[-1])
    return marks
