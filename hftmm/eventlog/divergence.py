"""Where a replay of a live run departs from the live run, and why, from the data alone.

Pure Python and pandas (no NautilusTrader): the inputs are plain rows read from the two run
folders (``load_run_record``) and the live node's recorded market data (``recorded.py``).

**Alignment.** Live times are the node's wall clock and the replay's clock is the recorded
receive time (``ts_init``) of the market data, so times are not compared directly. Instead:

- a *command* is compared by what it does (strategy, instrument, kind, side, quantity, price,
  type, risk verdict and vetoing plugin), by which of the strategy's orders it concerns (the
  order's ordinal among the strategy's submits, so ids aside) and by the market-data event it
  followed (``md_ts_init``/``md_ts_event``: the book event the strategy had last seen, the same
  recorded object in both runs);
- an *order* by its ordinal, side, type, last price, quantity, filled quantity and final status;
- a *fill* by its order's ordinal, side, quantity, price and liquidity side.

Commands and orders are compared per strategy, fills per instrument: the interleaving of
independent strategies is timing, not a decision.

The first divergence of each sequence is reported with both rows and a cause derived from the
data (``explain_*``): a decision that followed a different market-data event (how far apart
in receive time, and how long the live venue took to acknowledge what the strategy was waiting
for, against the replay's latency model), a fill one side has and the other has not (what traded
at or through its price in the recorded data between the order resting there and the fill, next
to the size displayed ahead of it), a different risk verdict (both plugins and reasons), a venue
reject (its reason), or one run stopping earlier.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

ET = ZoneInfo("America/New_York")
COMMAND_KEYS = ["strategy", "instrument", "kind", "ordinal", "side", "quantity", "price", "order_type", "allowed", "plugin",
                "md_ts_init", "md_ts_event"]
ORDER_KEYS = ["ordinal", "instrument_id", "side", "order_type", "price", "quantity", "filled_qty", "status"]
FILL_KEYS = ["ordinal", "instrument_id", "side", "quantity", "price", "liquidity_side"]


@dataclass
class RunRecord:
    """One run's decisions and outcomes as plain rows.

    Attributes
    ----------
    commands : list of dict
        Event-log commands in log order (``Command`` fields).
    order_events : list of dict
        ``{"event", "order", "ts", "reason"}`` per order event of the stream (``ts`` is
        ``ts_init``: the node's clock), in time order.
    fills : list of dict
        ``{"ts", "order", "instrument_id", "side", "quantity", "price", "liquidity_side",
        "commission"}`` in time order.
    orders : list of dict
        ``orders.parquet`` rows.
    """

    commands: list[dict[str, Any]]
    order_events: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    ordinals: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The ordinal of each order among its strategy's submits: how orders are matched, ids aside.
        counts: dict[str, int] = {}
        for c in self.commands:
            if c["kind"] == "submit" and c["order"] not in self.ordinals:
                n = counts.get(c["strategy"], 0)
                counts[c["strategy"]] = n + 1
                self.ordinals[c["order"]] = (c["strategy"], n)

    def ordinal(self, order: str) -> str:
        """``<strategy>#<n>``, or the id itself for an order no submit names (adopted, external)."""
        hit = self.ordinals.get(order)
        return f"{hit[0]}#{hit[1]}" if hit else order

    def command_rows(self) -> list[dict[str, Any]]:
        """Commands keyed for comparison (see the module docstring)."""
        return [{**{k: c.get(k) for k in COMMAND_KEYS if k != "ordinal"}, "ordinal": self.ordinal(c["order"])}
                for c in self.commands]

    def order_rows(self) -> list[dict[str, Any]]:
        """Orders keyed for comparison, in submit order."""
        rows = [{**{k: o.get(k) for k in ORDER_KEYS if k != "ordinal"}, "ordinal": self.ordinal(o["client_order_id"]),
                 "_order": o["client_order_id"]} for o in self.orders]
        return sorted(rows, key=lambda r: _ordinal_key(r["ordinal"]))

    def fill_rows(self) -> list[dict[str, Any]]:
        """Fills keyed for comparison, in time order."""
        return [{**{k: f.get(k) for k in FILL_KEYS if k != "ordinal"}, "ordinal": self.ordinal(f["order"]),
                 "_ts": f["ts"], "_order": f["order"]} for f in self.fills]


def _ordinal_key(ordinal: str) -> tuple[str, int]:
    name, _, n = ordinal.rpartition("#")
    return (name, int(n)) if n.isdigit() else (ordinal, -1)


@dataclass
class Market:
    """The recorded market data per instrument (``recorded_quotes``/``recorded_trades`` frames)."""

    quotes: dict[str, pd.DataFrame]
    trades: dict[str, pd.DataFrame]


@dataclass
class Divergence:
    """The first place two sequences differ, and why (a live replay derives the cause from the data)."""

    sequence: str
    index: int
    recorded: dict[str, Any] | None
    replayed: dict[str, Any] | None
    cause: str = ""


# -- formatting --------------------------------------------------------------------------------


def clock(ns: int | None) -> str:
    """A node receive time (UTC wall clock) as ``HH:MM:SS.ffffff``."""
    if ns is None or (isinstance(ns, float) and math.isnan(ns)):
        return "?"
    return dt.datetime.fromtimestamp(int(ns) / 1e9, dt.UTC).strftime("%H:%M:%S.%f")


def market_time(ns: int | None) -> str:
    """A market event time (the feed's ``ts_event``) in ET as ``HH:MM:SS.fff ET``."""
    if not ns:
        return "?"
    return dt.datetime.fromtimestamp(int(ns) / 1e9, ET).strftime("%H:%M:%S.%f")[:-3] + " ET"


def _ms(ns: float) -> str:
    return f"{ns / 1e6:,.1f} ms"


def _px(x: float | None) -> str:
    return "market" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _side(side: int | str) -> str:
    return {1: "BUY", -1: "SELL"}.get(side, str(side)) if not isinstance(side, str) else side


def describe_command(c: dict[str, Any]) -> str:
    """``modify BUY 100 @ 50.07 (allowed)`` style."""
    verdict = "allowed" if c.get("allowed", True) else f"vetoed by {c.get('plugin')}"
    return f"{c['kind']} {_side(c['side'])} {c['quantity']:g} @ {_px(c.get('price'))} of order {c.get('ordinal', c.get('order'))} ({verdict})"


# -- the trade tape ----------------------------------------------------------------------------


def trades_through(trades: pd.DataFrame, side: str, price: float, start_ns: int, end_ns: int) -> pd.DataFrame:
    """The recorded trades received in ``[start_ns, end_ns]`` at or through ``price`` for a
    resting order of ``side``: at or below it for a BUY, at or above it for a SELL."""
    if trades is None or not len(trades):
        return pd.DataFrame(columns=["ts_init", "ts_event", "price", "size"])
    window = trades[(trades["ts_init"] >= start_ns) & (trades["ts_init"] <= end_ns)]
    through = window["price"] <= price + 1e-9 if side == "BUY" else window["price"] >= price - 1e-9
    return window[through]


def displayed_ahead(quotes: pd.DataFrame, side: str, price: float, at_ns: int) -> float | None:
    """Shares displayed at ``price`` on the order's side of the last recorded NBBO at ``at_ns``
    (0 when the order improves the touch; None when it rests behind it, where the L1 feed shows
    no depth, or no quote was received yet)."""
    if quotes is None or not len(quotes):
        return None
    before = quotes[quotes["ts_init"] <= at_ns]
    if not len(before):
        return None
    q = before.iloc[-1]
    touch, size = (q["bid"], q["bid_size"]) if side == "BUY" else (q["ask"], q["ask_size"])
    if abs(touch - price) < 1e-9:
        return float(size)
    better = price > touch if side == "BUY" else price < touch
    return 0.0 if better else None


def _rested_since(record: RunRecord, order: str, price: float, before_ns: int) -> int | None:
    """When ``order`` was last sent to ``price`` (its submit or the modify that moved it there),
    before ``before_ns``: the node's command time."""
    since = None
    for c in record.commands:
        if c["order"] == order and c["kind"] in ("submit", "modify") and c.get("allowed", True) and c["ts"] <= before_ns \
                and c.get("price") is not None and abs(c["price"] - price) < 1e-9:
            since = c["ts"]
    return since


def _tape_facts(market: Market, instrument: str, side: str, price: float, start_ns: int | None, end_ns: int) -> str:
    quotes, trades = market.quotes.get(instrument), market.trades.get(instrument)
    if start_ns is None:
        return "the order's placement at that price is not in the event log"
    hits = trades_through(trades, side, price, start_ns, end_ns)
    ahead = displayed_ahead(quotes, side, price, start_ns)
    where = "at or below" if side == "BUY" else "at or above"
    span = f"between the order resting at {price:.2f} ({clock(start_ns)}) and {clock(end_ns)}"
    if not len(hits):
        tape = f"no trade printed {where} {price:.2f} in the recorded data {span}"
        later = trades_through(trades, side, price, end_ns + 1, 2**63 - 1)
        if len(later):
            nxt = later.iloc[0]
            tape += (f"; the next one, {nxt['size']:,.0f} @ {nxt['price']:.2f} (market {market_time(nxt['ts_event'])}), "
                     f"reached the node {_ms(nxt['ts_init'] - end_ns)} after that")
        else:
            tape += " nor after it"
    else:
        first = hits.iloc[0]
        tape = (f"{len(hits)} recorded trade(s) {where} {price:.2f} {span} totalling {hits['size'].sum():,.0f} shares, "
                f"the first {first['size']:,.0f} @ {first['price']:.2f} received {clock(first['ts_init'])} "
                f"(market {market_time(first['ts_event'])})")
    if ahead is None:
        queue = "; the order rested behind the NBBO, where the L1 feed shows no depth"
    elif ahead == 0:
        queue = "; the order improved the NBBO when it went there (nothing displayed ahead)"
    else:
        queue = f"; {ahead:,.0f} shares were displayed ahead of it at {price:.2f} when it went there"
    return tape + queue


# -- causes ------------------------------------------------------------------------------------


def explain_fill(rec_fill: dict[str, Any] | None, rep_fill: dict[str, Any] | None, recorded: RunRecord,
                 replayed: RunRecord, market: Market) -> str:
    """Why one run has a fill the other has not (or a different one), from the trade tape."""
    if rec_fill is not None and rep_fill is None:
        f = rec_fill
        since = _rested_since(recorded, f["_order"], f["price"], f["_ts"])
        others = [g for g in replayed.fill_rows() if g["ordinal"] == f["ordinal"]]
        model = ("the replay's fill model gave that order no fill" if not others else
                 f"the replay filled that order differently ({', '.join(f'{g['quantity']:g} @ {g['price']:.2f}' for g in others)})")
        return (f"recorded fill of {f['quantity']:g} @ {f['price']:.2f} ({f['side']}, order {f['ordinal']}) at {clock(f['_ts'])} "
                f"(venue) — {model}: " + _tape_facts(market, f["instrument_id"], f["side"], f["price"], since, f["_ts"]))
    if rep_fill is not None and rec_fill is None:
        f = rep_fill
        since = _rested_since(replayed, f["_order"], f["price"], f["_ts"])
        fate = _fate(recorded, f["ordinal"])
        return (f"the replay filled {f['quantity']:g} @ {f['price']:.2f} ({f['side']}, order {f['ordinal']}) at {clock(f['_ts'])}; "
                f"the live venue did not ({fate}): " + _tape_facts(market, f["instrument_id"], f["side"], f["price"], since, f["_ts"]))
    assert rec_fill is not None and rep_fill is not None
    parts = [f"{k}: recorded {rec_fill[k]} vs replayed {rep_fill[k]}" for k in FILL_KEYS if rec_fill[k] != rep_fill[k]]
    return ("fills differ in " + "; ".join(parts) + f" (recorded at {clock(rec_fill['_ts'])}, replayed at {clock(rep_fill['_ts'])}); "
            "live: " + _tape_facts(market, rec_fill["instrument_id"], rec_fill["side"], rec_fill["price"],
                                   _rested_since(recorded, rec_fill["_order"], rec_fill["price"], rec_fill["_ts"]), rec_fill["_ts"])
            + "; replay: " + _tape_facts(market, rep_fill["instrument_id"], rep_fill["side"], rep_fill["price"],
                                         _rested_since(replayed, rep_fill["_order"], rep_fill["price"], rep_fill["_ts"]),
                                         rep_fill["_ts"]))


def _fate(record: RunRecord, ordinal: str) -> str:
    """What happened to an order (by ordinal) in ``record``: its last event, or that it never existed."""
    order = next((o for o, (s, n) in record.ordinals.items() if f"{s}#{n}" == ordinal), None)
    if order is None:
        return f"the live strategy never sent an order {ordinal}"
    fills = [f for f in record.fills if f["order"] == order]
    if fills:
        return f"it filled order {ordinal} " + ", ".join(f"{f['quantity']:g} @ {f['price']:.2f} at {clock(f['ts'])}" for f in fills)
    events = [e for e in record.order_events if e["order"] == order and e["event"] not in ("updated", "modify_rejected")]
    if not events:
        return f"order {ordinal} has no venue event in the live stream"
    last = events[-1]
    reason = f": {last['reason']}" if last.get("reason") else ""
    return f"order {ordinal} was {last['event']} at {clock(last['ts'])}{reason}"


def _events_between(record: RunRecord, order: str | None, start_ns: int, end_ns: int, strategy: str) -> list[dict[str, Any]]:
    own = {o for o, (s, _) in record.ordinals.items() if s == strategy}
    return [e for e in record.order_events if start_ns < e["ts"] <= end_ns and (e["order"] == order if order else e["order"] in own)]


def _waited_for(record: RunRecord, cmd: dict[str, Any]) -> tuple[str, int, int, int] | None:
    """The venue event the strategy acted on before ``cmd`` (the last event of the same order
    for a modify or cancel, of any of its orders for a submit) and the command it answered:
    ``(event, command ts, event ts, command's md_ts_init)``."""
    order = cmd["order"] if cmd["kind"] != "submit" else None
    prior = [c for c in record.commands if c["ts"] < cmd["ts"] and c["strategy"] == cmd["strategy"]
             and c.get("allowed", True) and (order is None or c["order"] == order)]
    if not prior:
        return None
    events = _events_between(record, order, prior[-1]["ts"], cmd["ts"], cmd["strategy"])
    if not events:
        return None
    return events[-1]["event"], prior[-1]["ts"], events[-1]["ts"], prior[-1].get("md_ts_init", 0)


def explain_timing(rec: dict[str, Any], rep: dict[str, Any], recorded: RunRecord, replayed: RunRecord) -> str:
    """The same decision after different market-data events: how far apart, and what the strategy
    was waiting for in each run."""
    delta = rec["md_ts_init"] - rep["md_ts_init"]
    when = "later" if delta > 0 else "earlier"
    text = (f"the live node sent {describe_command(rec)} after the market-data event received {clock(rec['md_ts_init'])} "
            f"(market {market_time(rec['md_ts_event'])}); the replay sent it after the event received "
            f"{clock(rep['md_ts_init'])} (market {market_time(rep['md_ts_event'])}): the live decision came "
            f"{_ms(abs(delta))} {when} in receive time")
    wait = _wait_text(rec, rep, recorded, replayed)
    if wait:
        text += f" ({wait})"
    else:
        lag = rec["ts"] - rec["md_ts_init"]
        if lag > 0:
            text += f"; the live node decided {_ms(lag)} after receiving that event"
    return text


def _wait_text(rec: dict[str, Any], rep: dict[str, Any], recorded: RunRecord, replayed: RunRecord) -> str:
    """What the strategy waited for before ``rec``/``rep`` (the venue's answer to its previous
    command) and how long that took in each run, or "" when it waited for nothing."""
    live_wait, replay_wait = _waited_for(recorded, rec), _waited_for(replayed, rep)
    if not live_wait:
        return ""
    text = (f"latency: the strategy first waited for the venue's answer ({live_wait[0]}) to its previous command; "
            f"live, that command left {_ms(live_wait[1] - live_wait[3])} after its market-data event and the venue "
            f"answered {_ms(live_wait[2] - live_wait[1])} later")
    if replay_wait:
        text += (f"; in the replay it left with its event and the simulated venue's answer came "
                 f"{_ms(replay_wait[2] - replay_wait[1])} later, when the replay's clock next advanced "
                 "(a backtest venue answers at the next recorded event or timer after its latency)")
    return text


def _fills_before(record: RunRecord, ts: int) -> list[dict[str, Any]]:
    return [f for f in record.fill_rows() if f["_ts"] < ts]


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def explain_command(i: int, rec: dict[str, Any] | None, rep: dict[str, Any] | None, recorded: RunRecord,
                    replayed: RunRecord, market: Market) -> str:
    """Why the ``i``-th commands differ (see the module docstring)."""
    if rec is None or rep is None:
        have, other, name = (rec, replayed, "replay") if rep is None else (rep, recorded, "live run")
        assert have is not None
        last_md = max((c["md_ts_init"] for c in other.commands), default=0)
        after = have["md_ts_init"] > last_md
        return (f"the {name} has no command #{i}; the other run's is {describe_command(have)} after the market-data event "
                f"received {clock(have['md_ts_init'])}" + (f", after the {name}'s last decision's event ({clock(last_md)})" if after else "")
                + f"; the {name} made {len(other.commands)} command(s) in all")
    same_decision = all(rec[k] == rep[k] for k in COMMAND_KEYS if k not in ("md_ts_init", "md_ts_event"))
    if same_decision:
        return explain_timing(rec, rep, recorded, replayed)
    # Different decisions: was the strategy's state different? Fills first (they move the position).
    rec_fills, rep_fills = _fills_before(recorded, rec["ts"]), _fills_before(replayed, rep["ts"])
    for k in range(max(len(rec_fills), len(rep_fills))):
        a = rec_fills[k] if k < len(rec_fills) else None
        b = rep_fills[k] if k < len(rep_fills) else None
        if a is None or b is None or _strip(a) != _strip(b):
            return (f"the position differed before this decision (after the market-data event received "
                    f"{clock(rec['md_ts_init'])} live, {clock(rep['md_ts_init'])} in the replay): "
                    + explain_fill(a, b, recorded, replayed, market))
    if (rec["allowed"], rec["plugin"]) != (rep["allowed"], rep["plugin"]) and rec["kind"] == rep["kind"] \
            and rec["ordinal"] == rep["ordinal"]:
        return (f"risk verdicts differ on {rec['kind']} of order {rec['ordinal']}: live "
                f"{'allowed' if rec['allowed'] else 'vetoed by ' + rec['plugin'] + ': ' + rec.get('reason', '')}, replay "
                f"{'allowed' if rep['allowed'] else 'vetoed by ' + rep['plugin'] + ': ' + rep.get('reason', '')}")
    # Same fills: an order's venue outcome (reject, cancel, ack) may differ.
    for ev_rec, ev_rep in zip(_order_outcomes(recorded, rec["ts"]), _order_outcomes(replayed, rep["ts"]), strict=False):
        if ev_rec != ev_rep:
            return (f"the venues answered order {ev_rec[0]} differently before this decision: live {ev_rec[1]}"
                    f"{': ' + ev_rec[2] if ev_rec[2] else ''}, replay {ev_rep[1]}{': ' + ev_rep[2] if ev_rep[2] else ''}")
    text = f"live {describe_command(rec)} vs replay {describe_command(rep)}"
    if (rec["md_ts_init"], rec["md_ts_event"]) != (rep["md_ts_init"], rep["md_ts_event"]):
        delta = rec["md_ts_init"] - rep["md_ts_init"]
        return (text + f", after different market-data events: live received {clock(rec['md_ts_init'])} (market "
                f"{market_time(rec['md_ts_event'])}), replay {clock(rep['md_ts_init'])} (market {market_time(rep['md_ts_event'])}), "
                f"{_ms(abs(delta))} {'later' if delta > 0 else 'earlier'} live; the fills before both were the same"
                + (f" ({wait})" if (wait := _wait_text(rec, rep, recorded, replayed)) else ""))
    return text + f", after the same market-data event (received {clock(rec['md_ts_init'])}), with the same fills before it"


def _order_outcomes(record: RunRecord, before_ns: int) -> list[tuple[str, str, str]]:
    return [(record.ordinal(e["order"]), e["event"], e.get("reason") or "") for e in record.order_events
            if e["ts"] < before_ns and e["event"] in ("rejected", "canceled", "modify_rejected", "cancel_rejected")]


def explain_order(rec: dict[str, Any] | None, rep: dict[str, Any] | None, recorded: RunRecord, replayed: RunRecord,
                  market: Market) -> str:
    """Why an order ended differently: its fills, or the venue's answers."""
    if rec is None or rep is None:
        have = rec or rep
        assert have is not None
        return (f"only the {'live run' if rep is None else 'replay'} has order {have['ordinal']} "
                f"({have['side']} {have['quantity']:g} @ {_px(have['price'])}, {have['status']})")
    if rec["filled_qty"] != rep["filled_qty"] or (rec["filled_qty"] and rec["price"] != rep["price"]):
        a = [f for f in recorded.fill_rows() if f["ordinal"] == rec["ordinal"]]
        b = [f for f in replayed.fill_rows() if f["ordinal"] == rep["ordinal"]]
        return explain_fill(a[0] if a else None, b[0] if b else None, recorded, replayed, market) if (a or b) else \
            f"filled {rec['filled_qty']:g} live vs {rep['filled_qty']:g} in the replay"
    if rec["status"] != rep["status"]:
        return (f"order {rec['ordinal']} ended {rec['status']} live ({_fate(recorded, rec['ordinal'])}) and {rep['status']} in the "
                f"replay ({_fate(replayed, rep['ordinal']).replace('the live strategy', 'the replay')})")
    parts = [f"{k} {rec[k]} live vs {rep[k]} replayed" for k in ORDER_KEYS if rec[k] != rep[k]]
    return f"order {rec['ordinal']}: " + "; ".join(parts) + " (its amendments followed the commands above)"


def first_divergence(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> int | None:
    """The first index where two row sequences differ (``_``-prefixed keys aside), or None."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if _strip(x) != _strip(y):
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def compare_live(recorded: RunRecord, replayed: RunRecord, market: Market) -> tuple[dict[str, tuple[int, int]], list[Divergence]]:
    """Compare commands, orders and fills of a live run and its replay; return the counts and
    the first divergence of each sequence with its cause."""
    counts: dict[str, tuple[int, int]] = {}
    out: list[Divergence] = []
    rec_cmds, rep_cmds = recorded.command_rows(), replayed.command_rows()
    for row, c in zip(rec_cmds, recorded.commands, strict=True):
        row["_ts"], row["ts"], row["order"], row["reason"] = c["ts"], c["ts"], c["order"], c.get("reason", "")
    for row, c in zip(rep_cmds, replayed.commands, strict=True):
        row["_ts"], row["ts"], row["order"], row["reason"] = c["ts"], c["ts"], c["order"], c.get("reason", "")
    counts["commands"] = (len(rec_cmds), len(rep_cmds))
    hit = first_divergence_by(rec_cmds, rep_cmds, lambda r: r["strategy"], COMMAND_KEYS)
    if hit is not None:
        i, rec, rep = hit
        out.append(Divergence("commands", i, rec and _strip(rec), rep and _strip(rep),
                                  explain_command(i, rec, rep, recorded, replayed, market)))
    for name, rows_a, rows_b, group, explain in (
        ("orders", recorded.order_rows(), replayed.order_rows(), lambda r: _ordinal_key(r["ordinal"])[0], explain_order),
        ("fills", recorded.fill_rows(), replayed.fill_rows(), lambda r: r["instrument_id"], None),
    ):
        counts[name] = (len(rows_a), len(rows_b))
        hit = first_divergence_by(rows_a, rows_b, group)
        if hit is None:
            continue
        i, a, b = hit
        if explain is not None:
            cause = explain(a, b, recorded, replayed, market)
        elif a is not None and b is not None and a["ordinal"] != b["ordinal"]:
            # Aligned by time, the two fills belong to different orders: explain the earlier one.
            cause = (explain_fill(a, None, recorded, replayed, market) if a["_ts"] <= b["_ts"]
                     else explain_fill(None, b, recorded, replayed, market))
        else:
            cause = explain_fill(a, b, recorded, replayed, market)
        out.append(Divergence(name, i, a and _strip(a), b and _strip(b), cause))
    return counts, out


def first_divergence_by(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], group: Any,
                        keys: Sequence[str] | None = None) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None] | None:
    """The first divergence of two sequences compared per group (per strategy or instrument:
    the interleaving of independent strategies is timing, not a decision), as ``(index in the
    recorded sequence, recorded row, replayed row)``: the group whose divergence comes first in
    the recorded sequence (or, past its end, in the replayed one)."""
    def split(rows: Sequence[dict[str, Any]]) -> dict[Any, list[tuple[int, dict[str, Any]]]]:
        out: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
        for n, r in enumerate(rows):
            out.setdefault(group(r), []).append((n, r))
        return out

    def pick(r: dict[str, Any]) -> dict[str, Any]:
        return {k: r[k] for k in keys} if keys is not None else r

    ga, gb = split(a), split(b)
    best: tuple[tuple[int, int], int, dict[str, Any] | None, dict[str, Any] | None] | None = None
    for g in list(ga) + [g for g in gb if g not in ga]:
        xa, xb = ga.get(g, []), gb.get(g, [])
        i = first_divergence([pick(r) for _, r in xa], [pick(r) for _, r in xb])
        if i is None:
            continue
        ra = xa[i] if i < len(xa) else None
        rb = xb[i] if i < len(xb) else None
        rank = (ra[0], 0) if ra is not None else (len(a), rb[0] if rb is not None else 0)
        if best is None or rank < best[0]:
            best = (rank, ra[0] if ra is not None else len(a), ra[1] if ra else None, rb[1] if rb else None)
    return None if best is None else best[1:]


# -- reading a run folder ------------------------------------------------------------------------

_EVENT_FILES = {"accepted": "order_accepted", "rejected": "order_rejected", "canceled": "order_canceled",
                "updated": "order_updated", "modify_rejected": "order_modify_rejected",
                "cancel_rejected": "order_cancel_rejected", "filled": "order_filled", "expired": "order_expired"}


def load_run_record(run_dir: Path) -> RunRecord:
    """A run folder's commands (event log), order events and fills (stream), and orders."""
    from hftmm.eventlog.log import load_log
    from hftmm.eventlog.recorded import read_stream

    run_dir = Path(run_dir)
    _, _, commands, _ = load_log(run_dir / "eventlog.jsonl")
    events: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    for event, stem in _EVENT_FILES.items():
        for path in sorted((run_dir / "stream").glob(f"**/{stem}_*.feather")):
            table = read_stream(path)
            if table is None:
                continue
            df = table.to_pandas()
            for row in df.itertuples(index=False):
                events.append({"event": event, "order": str(row.client_order_id), "ts": int(row.ts_init),
                               "reason": str(getattr(row, "reason", "") or "")})
                if event == "filled":
                    fills.append({"ts": int(row.ts_init), "order": str(row.client_order_id), "instrument_id": str(row.instrument_id),
                                  "side": str(row.order_side), "quantity": float(row.last_qty), "price": float(row.last_px),
                                  "liquidity_side": str(row.liquidity_side), "commission": str(row.commission)})
    events.sort(key=lambda e: e["ts"])
    fills.sort(key=lambda f: f["ts"])
    orders_path = run_dir / "orders.parquet"
    orders = pd.read_parquet(orders_path).to_dict("records") if orders_path.is_file() else []
    return RunRecord(commands=[{f: getattr(c, f) for f in c.__struct_fields__} for c in commands],
                     order_events=events, fills=fills, orders=orders)
