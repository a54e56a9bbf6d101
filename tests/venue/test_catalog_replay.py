"""Replay catalog days through the engine with resting and taking participant orders.

Three catalogs: the synthetic L2 catalog of the backtest tests, a generated TAQ day ingested by the
TAQ adapter (three symbols), and NYSE's real TAQ excerpts from shared/data (A's trades and Z's book). Every fill caused by a market event must be
justified by that event (side, price, size); every taker fill must stay within the limit and the
replayed size offered; the replay is deterministic and survives a snapshot/restore half way through.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from adapters.taq import ingest_taq
from hftmm.sample.taq_day import generate_taq_day
from hftmm.venue.catalog_feed import CatalogFeedError, catalog_day_events, symbol_specs
from hftmm.venue.market_replay import CLEAR, LEVEL, NO_AGGRESSOR, QUOTE, TRADE, MarketEvent
from hftmm.venue.matching_engine import MatchingEngine
from hftmm.venue.orders import (
    MARKET_COUNTERPARTY,
    CancelOrder,
    Event,
    ExecType,
    ExecutionReport,
    Liquidity,
    NewOrder,
    Side,
    TimeInForce,
)
from tests.backtest.synthetic_catalog import build_catalog

FILLS = (ExecType.PARTIAL_FILL, ExecType.FILL)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    build_catalog(root, n_events=3000, seed=1)
    return root


@pytest.fixture(scope="module")
def sample_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = generate_taq_day(tmp_path_factory.mktemp("taq"), scale=0.05)
    root = tmp_path_factory.mktemp("sample_catalog")
    ingest_taq(root, master=files.master, trades=[files.trades], quotes=list(files.quotes), nbbo=files.nbbo, date=files.date)
    return root


@pytest.fixture(scope="module")
def real_excerpts(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = shared_data / "taq"
    root = tmp_path_factory.mktemp("real_catalog")
    ingest_taq(
        root, master=base / "small_EQY_US_ALL_REF_MASTER_20180306", trades=[base / "small_EQY_US_ALL_TRADE_20180730"],
        quotes=[base / "small_SPLITS_US_ALL_BBO_Z_20180730"],
    )
    return root


class DayReplay:
    """Feeds a day's events to an engine, placing orders as it goes and checking every report."""

    def __init__(self, engine: MatchingEngine, seed: int, every: int) -> None:
        self.e = engine
        self.rng = random.Random(seed)
        self.every = every
        self.log: list[Event] = []
        self.next_exec_id = engine.next_exec_id
        self.cum: dict[int, int] = defaultdict(int)
        self.live: list[tuple[str, str, str]] = []  # (participant, client order id, symbol)
        self.n = 0
        self.stats: Counter[str] = Counter()

    def run(self, events: list[tuple[str, MarketEvent]], start: int = 0) -> None:
        """Feed ``events``; ``start`` is the index of the first one in the day (for the action schedule)."""
        for i, (symbol, event) in enumerate(events, start=start):
            before = {
                o.order_id: o for side in (Side.BUY, Side.SELL) for o in self.e.resting_orders(symbol, side)
            }
            out = self.e.on_market_event(symbol, event)
            self.check_market_fills(event, before, out)
            self.record(out)
            if i % self.every == 0:
                self.act(symbol, event[0])

    def act(self, symbol: str, ts: int) -> None:
        """Join both replayed touches, sometimes take, and cancel the oldest orders."""
        for side in (Side.BUY, Side.SELL):
            best = self.e.replayed_best(symbol, side)
            if best is None:
                continue
            self.submit(symbol, side, best[0], 100 * self.rng.randint(1, 3), TimeInForce.GTC, ts)
        if self.rng.random() < 0.3:
            side = self.rng.choice((Side.BUY, Side.SELL))
            opposite = self.e.replayed_best(symbol, Side.SELL if side == Side.BUY else Side.BUY)
            if opposite is not None:
                self.submit(symbol, side, opposite[0], 100 * self.rng.randint(1, 5), TimeInForce.IOC, ts)
        while len(self.live) > 12:
            who, cid, sym = self.live.pop(0)
            if self.e.order(who, cid) is not None:
                self.n += 1
                self.record(self.e.submit(CancelOrder(participant=who, client_order_id=f"x{self.n}", orig_client_order_id=cid, symbol=sym, ts_ns=ts)))

    def submit(self, symbol: str, side: Side, price: int, qty: int, tif: TimeInForce, ts: int) -> None:
        self.n += 1
        who = self.rng.choice(("mm1", "mm2"))
        req = NewOrder(participant=who, client_order_id=f"o{self.n}", symbol=symbol, side=side, qty=qty, price=price, tif=tif, ts_ns=ts)
        market_side = Side.SELL if side == Side.BUY else Side.BUY
        offered = {p: avail for p, _, avail in self.e.replayed_levels(symbol, market_side)}
        out = self.e.submit(req)
        taken: Counter[int] = Counter()
        for r in out:
            if isinstance(r, ExecutionReport) and r.exec_type in FILLS and r.counterparty == MARKET_COUNTERPARTY:
                assert r.liquidity == Liquidity.TAKER and r.client_order_id == req.client_order_id
                assert (r.last_px <= price) if side == Side.BUY else (r.last_px >= price)
                taken[r.last_px] += r.last_qty
                self.stats["taker"] += 1
        for p, qty_taken in taken.items():
            assert qty_taken <= offered.get(p, 0), "took more than the replayed level offered"
        self.record(out)
        if tif == TimeInForce.GTC:
            self.live.append((who, req.client_order_id, symbol))

    def check_market_fills(self, event: MarketEvent, before: dict[int, object], out: list[Event]) -> None:
        _, kind, side, price, size = event
        total: Counter[Side] = Counter()
        for r in out:
            assert isinstance(r, ExecutionReport) and r.exec_type in FILLS
            assert r.counterparty == MARKET_COUNTERPARTY and r.liquidity == Liquidity.MAKER
            order = before[r.order_id]
            assert r.last_px == order.price and r.last_qty <= order.leaves_qty  # type: ignore[attr-defined]
            buy = r.side == Side.BUY
            if kind == TRADE:
                assert side in ((Side.SELL, NO_AGGRESSOR) if buy else (Side.BUY, NO_AGGRESSOR))
                assert (order.price >= price) if buy else (order.price <= price)  # type: ignore[attr-defined]
                self.stats["trade_through" if order.price != price else "queue"] += 1  # type: ignore[attr-defined]
            else:
                assert kind in (LEVEL, QUOTE) and side == (Side.SELL if buy else Side.BUY)
                assert (order.price >= price) if buy else (order.price <= price)  # type: ignore[attr-defined]
                self.stats["cross"] += 1
            total[r.side] += r.last_qty
        assert kind != CLEAR or not out
        assert all(q <= size for q in total.values())

    def record(self, out: list[Event]) -> None:
        by_match: dict[int, list[ExecutionReport]] = defaultdict(list)
        for r in out:
            if not isinstance(r, ExecutionReport):
                continue
            assert r.exec_id == self.next_exec_id
            self.next_exec_id += 1
            if r.exec_type in FILLS:
                self.cum[r.order_id] += r.last_qty
                assert self.cum[r.order_id] == r.cum_qty and r.cum_qty + r.leaves_qty == r.order_qty
                by_match[r.match_id].append(r)
        for group in by_match.values():
            if group[0].counterparty != MARKET_COUNTERPARTY:
                taker, maker = group
                assert taker.last_qty == maker.last_qty and taker.side != maker.side
        self.log.extend(out)


def replay(catalog: Path, ids: list[str], date: dt.date, every: int) -> tuple[DayReplay, list[tuple[str, MarketEvent]]]:
    events = list(catalog_day_events(catalog, ids, date))
    day = DayReplay(MatchingEngine(symbol_specs(catalog, ids)), seed=3, every=every)
    day.run(events)
    assert day.e.counters.bad_market_events == 0
    return day, events


def test_synthetic_l2_day(synthetic: Path) -> None:
    day, events = replay(synthetic, ["ACME.XNYS"], dt.date(2024, 3, 11), every=25)
    assert [ev[1] for _, ev in events[:1]] == [CLEAR]
    assert all(a[1][0] <= b[1][0] for a, b in zip(events, events[1:], strict=False))
    # The day exercises every path: queue fills, trade-throughs, crossings and takers.
    assert min(day.stats[k] for k in ("queue", "trade_through", "cross", "taker")) > 0, day.stats


def test_replay_is_deterministic_and_survives_snapshot_restore(synthetic: Path) -> None:
    ids, date = ["ACME.XNYS"], dt.date(2024, 3, 11)
    whole, events = replay(synthetic, ids, date, every=25)
    cut = len(events) // 2
    first = DayReplay(MatchingEngine(symbol_specs(synthetic, ids)), seed=3, every=25)
    first.run(events[:cut])
    resumed = DayReplay(MatchingEngine.restore(first.e.snapshot()), seed=3, every=25)
    resumed.rng.setstate(first.rng.getstate())
    resumed.cum, resumed.live, resumed.n = first.cum, first.live, first.n
    resumed.next_exec_id = first.next_exec_id
    resumed.run(events[cut:], start=cut)
    assert first.log + resumed.log == whole.log
    assert resumed.e.snapshot() == whole.e.snapshot()


def test_generated_taq_day_three_symbols(sample_day: Path) -> None:
    ids = ["ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"]
    day, events = replay(sample_day, ids, dt.date(2024, 3, 11), every=40)
    assert {symbol for symbol, _ in events} == {"ACME", "BOLT", "CRUX"}
    assert day.stats["taker"] > 0 and day.stats["queue"] + day.stats["trade_through"] + day.stats["cross"] > 0, day.stats


def test_real_taq_excerpts(real_excerpts: Path) -> None:
    # The excerpts hold A's trades and Z's quotes (one exchange's, turned into deltas by the adapter).
    day, events = replay(real_excerpts, ["A.XNYS", "Z.XNAS"], dt.date(2018, 7, 30), every=3)
    kinds = Counter(ev[1] for _, ev in events)
    assert kinds[LEVEL] > 0 and kinds[TRADE] > 0
    assert any(isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW for r in day.log)


def test_missing_instrument_is_a_clear_error(synthetic: Path) -> None:
    with pytest.raises(CatalogFeedError, match="NOPE.XNYS"):
        list(catalog_day_events(synthetic, ["NOPE.XNYS"], dt.date(2024, 3, 11)))


def test_each_instruments_events_are_its_own(sample_day: Path) -> None:
    from nautilus_trader.model.data import OrderBookDelta, TradeTick
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    ids = ["ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"]
    catalog = ParquetDataCatalog(str(sample_day))
    counts: Counter[tuple[str, str]] = Counter()
    prices: dict[str, list[int]] = defaultdict(list)
    for symbol, (_, kind, _, price, _) in catalog_day_events(sample_day, ids, dt.date(2024, 3, 11)):
        counts[(symbol, "trade" if kind == TRADE else "book")] += 1
        if kind == TRADE:
            prices[symbol].append(price)
    for iid in ids:
        symbol = iid.split(".")[0]
        trades = catalog.query(TradeTick, identifiers=[iid])
        assert counts[(symbol, "book")] == len(catalog.query(OrderBookDelta, identifiers=[iid]))
        assert counts[(symbol, "trade")] == len(trades)
        assert prices[symbol] == [int(t.price.as_decimal() * 10**9) for t in trades]
