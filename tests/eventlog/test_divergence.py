"""The live-replay comparison and its causes (pure functions, hand-built runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hftmm.eventlog.divergence import (
    Market,
    RunRecord,
    clock,
    compare_live,
    displayed_ahead,
    first_divergence,
    trades_through,
)

S = 1_000_000_000
T0 = 1_796_616_000 * S  # node receive times (wall clock)
E0 = 1_710_163_800 * S  # market times (ts_event)
IID = "ACME.XNYS"
STRAT = "MM-001"


def cmd(ts: int, kind: str, order: str, side: int, price: float | None, md: int, qty: float = 100.0, **kw: Any) -> dict[str, Any]:
    return {"ts": ts, "strategy": STRAT, "instrument": IID, "kind": kind, "order": order, "side": side, "quantity": qty,
            "price": price, "order_type": "LIMIT", "post_only": True, "reduce_only": False, "allowed": True, "plugin": "",
            "reason": "", "md_ts_init": md, "md_ts_event": md - T0 + E0, **kw}


def fill(ts: int, order: str, side: str, price: float, qty: float = 100.0) -> dict[str, Any]:
    return {"ts": ts, "order": order, "instrument_id": IID, "side": side, "quantity": qty, "price": price,
            "liquidity_side": "MAKER", "commission": "-0.20 USD"}


def order(oid: str, side: str, price: float, filled: float, status: str) -> dict[str, Any]:
    return {"client_order_id": oid, "instrument_id": IID, "side": side, "order_type": "LIMIT", "price": price,
            "quantity": 100.0, "filled_qty": filled, "status": status}


def market(trades: list[tuple[int, float, float]] = (), quotes: list[tuple[int, float, float, float, float]] = ()) -> Market:
    t = pd.DataFrame([{"ts_init": ts, "ts_event": ts - T0 + E0, "price": px, "size": sz, "aggressor": 2} for ts, px, sz in trades],
                     columns=["ts_init", "ts_event", "price", "size", "aggressor"])
    q = pd.DataFrame([{"ts_init": ts, "ts_event": ts - T0 + E0, "bid": b, "ask": a, "bid_size": bs, "ask_size": az}
                      for ts, b, a, bs, az in quotes], columns=["ts_init", "ts_event", "bid", "ask", "bid_size", "ask_size"])
    return Market({IID: q}, {IID: t})


def test_trades_through_and_the_size_displayed_ahead() -> None:
    m = market(trades=[(T0 + 1 * S, 101.24, 100), (T0 + 2 * S, 101.23, 300), (T0 + 3 * S, 101.20, 50), (T0 + 9 * S, 101.0, 1)],
               quotes=[(T0, 101.23, 101.25, 500, 200), (T0 + 5 * S, 101.22, 101.25, 100, 200)])
    hits = trades_through(m.trades[IID], "BUY", 101.23, T0, T0 + 5 * S)
    assert list(hits["size"]) == [300, 50]
    assert list(trades_through(m.trades[IID], "SELL", 101.23, T0, T0 + 5 * S)["size"]) == [100, 300]
    assert displayed_ahead(m.quotes[IID], "BUY", 101.23, T0 + S) == 500
    assert displayed_ahead(m.quotes[IID], "BUY", 101.24, T0 + S) == 0  # improves the bid
    assert displayed_ahead(m.quotes[IID], "BUY", 101.21, T0 + 6 * S) is None  # behind the touch: L1 shows nothing
    assert displayed_ahead(m.quotes[IID], "SELL", 101.25, T0 - 1) is None  # no quote received yet


def test_identical_runs_have_no_divergence() -> None:
    rec = RunRecord([cmd(T0 + 5, "submit", "O-1", 1, 101.23, T0)], fills=[fill(T0 + S, "O-1", "BUY", 101.23)],
                    orders=[order("O-1", "BUY", 101.23, 100, "FILLED")])
    rep = RunRecord([cmd(T0, "submit", "O-9", 1, 101.23, T0)], fills=[fill(T0 + 2 * S, "O-9", "BUY", 101.23)],
                    orders=[order("O-9", "BUY", 101.23, 100, "FILLED")])
    counts, divergences = compare_live(rec, rep, market())
    assert counts == {"commands": (1, 1), "orders": (1, 1), "fills": (1, 1)}
    assert divergences == [], "ids and times aside, the runs agree"


def test_a_live_fill_the_replay_lacks_is_explained_by_the_tape() -> None:
    commands = [cmd(T0 + 1_000_000, "submit", "O-1", 1, 101.23, T0)]
    rec = RunRecord(commands, fills=[fill(T0 + 5 * S, "O-1", "BUY", 101.23)], orders=[order("O-1", "BUY", 101.23, 100, "FILLED")])
    rep = RunRecord([cmd(T0, "submit", "O-1", 1, 101.23, T0)], orders=[order("O-1", "BUY", 101.23, 0, "CANCELED")])
    m = market(trades=[(T0 + 2 * S, 101.25, 100), (T0 + 7 * S, 101.23, 200)], quotes=[(T0, 101.22, 101.25, 300, 300)])
    _, divergences = compare_live(rec, rep, m)
    fills = next(d for d in divergences if d.sequence == "fills")
    assert fills.index == 0 and fills.replayed is None
    assert "recorded fill of 100 @ 101.23" in fills.cause and "the replay's fill model gave that order no fill" in fills.cause
    assert "no trade printed at or below 101.23" in fills.cause
    assert "the next one, 200 @ 101.23" in fills.cause and "2,000.0 ms after" in fills.cause
    assert "improved the NBBO" in fills.cause  # 101.23 was above the 101.22 bid
    orders = next(d for d in divergences if d.sequence == "orders")
    assert "recorded fill of 100 @ 101.23" in orders.cause


def test_trades_that_did_print_are_counted_against_the_queue() -> None:
    rec = RunRecord([cmd(T0, "submit", "O-1", -1, 50.10, T0)], fills=[fill(T0 + 4 * S, "O-1", "SELL", 50.10)],
                    orders=[order("O-1", "SELL", 50.10, 100, "FILLED")])
    rep = RunRecord([cmd(T0, "submit", "O-1", -1, 50.10, T0)], orders=[order("O-1", "SELL", 50.10, 0, "ACCEPTED")])
    m = market(trades=[(T0 + S, 50.10, 300), (T0 + 2 * S, 50.12, 100), (T0 + 3 * S, 50.05, 500)],
               quotes=[(T0 - 1, 50.05, 50.10, 100, 800)])
    _, divergences = compare_live(rec, rep, m)
    cause = next(d for d in divergences if d.sequence == "fills").cause
    assert "2 recorded trade(s) at or above 50.10" in cause and "totalling 400 shares" in cause
    assert "800 shares were displayed ahead of it at 50.10" in cause


def test_the_same_decision_after_a_later_quote_is_latency() -> None:
    rec = RunRecord([cmd(T0 + 100, "submit", "O-1", 1, 10.00, T0), cmd(T0 + 9_000_000, "modify", "O-1", 1, 10.01, T0 + 8_000_000)],
                    order_events=[{"event": "accepted", "order": "O-1", "ts": T0 + 6_000_000, "reason": ""}])
    rep = RunRecord([cmd(T0, "submit", "O-1", 1, 10.00, T0), cmd(T0 + 5_000_000, "modify", "O-1", 1, 10.01, T0 + 5_000_000)],
                    order_events=[{"event": "accepted", "order": "O-1", "ts": T0 + 5_000_000, "reason": ""}])
    _, [d] = compare_live(rec, rep, market())
    assert d.sequence == "commands" and d.index == 1
    assert "modify BUY 100 @ 10.01" in d.cause and "3.0 ms later in receive time" in d.cause
    assert "the venue answered 6.0 ms later" in d.cause and "answer came 5.0 ms later" in d.cause


def test_a_different_risk_verdict_names_both_plugins_and_reasons() -> None:
    rec = RunRecord([cmd(T0, "submit", "O-1", 1, 10.0, T0, allowed=False, plugin="MaxPosition", reason="position 500 > 400")])
    rep = RunRecord([cmd(T0, "submit", "O-1", 1, 10.0, T0)])
    _, [d] = compare_live(rec, rep, market())
    assert "risk verdicts differ" in d.cause
    assert "live vetoed by MaxPosition: position 500 > 400" in d.cause and "replay allowed" in d.cause


def test_a_decision_after_a_fill_only_one_run_had_blames_that_fill() -> None:
    commands = [cmd(T0, "submit", "O-1", 1, 10.00, T0), cmd(T0, "submit", "O-2", -1, 10.02, T0)]
    rec = RunRecord([*commands, cmd(T0 + 3 * S, "submit", "O-3", 1, 9.99, T0 + 3 * S)],
                    fills=[fill(T0 + 2 * S, "O-1", "BUY", 10.00)])
    rep = RunRecord([*commands, cmd(T0 + 3 * S, "modify", "O-1", 1, 10.01, T0 + 3 * S)],
                    order_events=[{"event": "canceled", "order": "O-1", "ts": T0 + 4 * S, "reason": ""}])
    _, divergences = compare_live(rec, rep, market(trades=[(T0 + S, 10.05, 100)]))
    d = divergences[0]
    assert d.sequence == "commands" and d.index == 2
    assert d.cause.startswith(f"the position differed before this decision (after the market-data event received "
                              f"{clock(T0 + 3 * S)} live, {clock(T0 + 3 * S)} in the replay): recorded fill of 100 @ 10.00")
    assert "no trade printed at or below 10.00" in d.cause and "nor after it" in d.cause
    f = next(x for x in divergences if x.sequence == "fills")
    assert "the replay's fill model gave that order no fill" in f.cause


def test_a_replay_fill_the_live_venue_did_not_give() -> None:
    rec = RunRecord([cmd(T0, "submit", "O-1", 1, 10.00, T0)],
                    order_events=[{"event": "canceled", "order": "O-1", "ts": T0 + 7 * S, "reason": ""}])
    rep = RunRecord([cmd(T0, "submit", "O-1", 1, 10.00, T0)], fills=[fill(T0 + S, "O-1", "BUY", 10.00)])
    _, divergences = compare_live(rec, rep, market(trades=[(T0 + S, 9.99, 200)], quotes=[(T0, 10.00, 10.02, 100, 100)]))
    cause = next(d for d in divergences if d.sequence == "fills").cause
    assert "the replay filled 100 @ 10.00" in cause and "the live venue did not" in cause
    assert "was canceled at" in cause and "1 recorded trade(s) at or below 10.00" in cause
    assert "100 shares were displayed ahead" in cause


def test_a_run_that_stops_early_is_reported_with_its_counts() -> None:
    rec = RunRecord([cmd(T0, "submit", "O-1", 1, 10.0, T0), cmd(T0 + S, "cancel", "O-1", 1, 10.0, T0 + S)])
    rep = RunRecord([cmd(T0, "submit", "O-1", 1, 10.0, T0)])
    _, [d] = compare_live(rec, rep, market())
    assert d.index == 1 and d.replayed is None
    assert "the replay has no command #1" in d.cause and "cancel BUY 100 @ 10.00" in d.cause and "made 1 command(s)" in d.cause


def test_first_divergence_ignores_private_keys_and_sees_length() -> None:
    assert first_divergence([{"a": 1, "_ts": 1}], [{"a": 1, "_ts": 2}]) is None
    assert first_divergence([{"a": 1}], [{"a": 1}, {"a": 2}]) == 1
    assert first_divergence([{"a": 1}, {"a": 3}], [{"a": 1}, {"a": 2}]) == 1


def test_the_analysis_and_the_schema_import_no_nautilus() -> None:
    import subprocess
    import sys

    code = ("import sys, hftmm.eventlog.divergence, hftmm.eventlog.recorded, hftmm.eventlog.schema; "
            "print(sorted(m for m in sys.modules if m.startswith('nautilus_trader')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_notes_name_what_a_live_replay_cannot_reproduce(tmp_path: Path) -> None:
    from hftmm.eventlog.log import EventLogWriter
    from hftmm.eventlog.replay import live_notes
    from hftmm.eventlog.schema import ParamChange, RunStarted

    writer = EventLogWriter(tmp_path / "eventlog.jsonl")
    writer.append(RunStarted(ts=T0, run_id="live-x", mode="live", config={}, seed=0, versions={}))
    writer.append(ParamChange(ts=T0 + 3 * S, version=2, by="ops", changes={"strategy.gamma": 0.1}, status="applied"))
    writer.flush()  # and no run_ended: the node died
    (tmp_path / "market_data").mkdir()
    notes = live_notes(tmp_path)
    assert len(notes) == 3
    assert "applied 1 runtime parameter change(s), the first at 04:00:03.000000 ({'strategy.gamma': 0.1})" in notes[0]
    assert "no run_ended record" in notes[1]
    assert f"{tmp_path / 'market_data' / 'manifest.json'} is missing" in notes[2]
    writer.close(T0 + 9 * S)
    (tmp_path / "market_data" / "manifest.json").write_text("{}")
    assert len(live_notes(tmp_path)) == 1
    gap = {"client": "POLYGON", "gaps": 2, "gap_ns_total": 3_500_000_000,
           "last_gap": {"disconnected_ns": T0 + 5 * S, "reconnected_ns": T0 + 7 * S, "reason": "connection lost"}}
    (tmp_path / "summary.json").write_text(json.dumps({"market_data": {"feed_gaps": [gap]}}))
    notes = live_notes(tmp_path)
    assert notes[1] == ("the feed (POLYGON) was interrupted 2 time(s), 3.500 s in all (the last from 04:00:05.000000 to "
                        "04:00:07.000000: connection lost); what the node missed is missing from the recording and the replay too")


def test_strategies_are_compared_each_on_its_own() -> None:
    a = cmd(T0, "submit", "A-1", 1, 10.0, T0)
    b = {**cmd(T0, "submit", "B-1", 1, 20.0, T0), "strategy": "MM-002", "instrument": "BOLT.XNAS"}
    b2 = {**cmd(T0 + S, "modify", "B-1", 1, 20.01, T0 + S), "strategy": "MM-002", "instrument": "BOLT.XNAS"}
    a2 = cmd(T0 + 2 * S, "modify", "A-1", 1, 10.01, T0 + 2 * S)
    # Another interleaving of the same per-strategy decisions is not a divergence.
    assert compare_live(RunRecord([a, b, b2, a2]), RunRecord([b, a, a2, b2]), market())[1] == []
    a3 = cmd(T0 + 2 * S, "modify", "A-1", 1, 10.02, T0 + S)
    _, [d] = compare_live(RunRecord([a, b, b2, a2]), RunRecord([b, a, a3, b2]), market())
    assert d.index == 3 and d.recorded["ordinal"] == "MM-001#0" and d.replayed["price"] == 10.02
    assert "live modify BUY 100 @ 10.01" in d.cause and "replay modify BUY 100 @ 10.02" in d.cause
    assert "after different market-data events" in d.cause and "1,000.0 ms later live" in d.cause
