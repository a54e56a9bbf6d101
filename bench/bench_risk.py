"""Microseconds the risk chain adds per order message (goal: under 20 µs for the whole chain).

A chain with every built-in pre-trade check (position with gross, order size and notional,
price collar, open orders, rate limit, self-cross, short sale with locates) plus the monitors
(dynamic limits, VaR limit, kill switch, allocator: they cost nothing per order), on a book of
three instruments with working orders, judges a realistic mix of new orders, amendments and
cancels. Measured with and without the hash-chained audit trail (one encode and one SHA-256 per
message), and, for scale, the trading-mode gate alone. Plus the cost of the message-bus hop the
strategy makes (``MessageBus.send`` to the chain's endpoint, Nautilus's Cython bus).

    .venv/bin/python bench/bench_risk.py [--messages 50000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hftmm.risk.audit import AuditTrail  # noqa: E402
from hftmm.risk.chain import RiskChain  # noqa: E402
from hftmm.risk.config import build_plugins  # noqa: E402
from hftmm.risk.intent import OrderIntent  # noqa: E402

T0 = 1_710_163_800_000_000_000
INSTRUMENTS = {"ACME.XNYS": 50.0, "BOLT.XNAS": 20.0, "CRUX.ARCX": 120.0}
ALL_PLUGINS = [
    {"path": "MaxPosition", "max_position": 5000, "max_gross": 12000},
    {"path": "MaxOrderSize", "max_quantity": 1000, "max_notional": 200_000},
    {"path": "PriceCollar", "max_deviation_bps": 50, "max_quote_age_s": 5},
    {"path": "MaxOpenOrders", "max_per_instrument": 50, "max_total": 120},
    {"path": "RateLimit", "max_orders": 100_000, "max_messages": 400_000},
    {"path": "NoSelfCross"},
    {"path": "ShortSale", "require_locate": True, "locates": {"ACME": 1e9, "BOLT": 1e9, "CRUX": 1e9}},
    {"path": "DynamicLimits"}, {"path": "VarLimit", "limit": 1e9}, {"path": "KillSwitch", "max_drawdown": 1e9},
    {"path": "CapitalAllocator", "budget": 1e9},
]


def _messages(n: int, seed: int = 7) -> list[tuple[str, str, int, float, float, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        iid = rng.choice(list(INSTRUMENTS))
        mid = INSTRUMENTS[iid]
        side = rng.choice((1, -1))
        price = round(mid - side * (0.01 + 0.01 * rng.randrange(5)), 2)
        kind = rng.choices(("new", "modify", "cancel"), (0.3, 0.5, 0.2))[0]
        out.append((kind, iid, side, 100.0, price, f"O-{i}"))
    return out


def _chain(plugins: list[dict], audit: AuditTrail | None) -> RiskChain:
    chain = RiskChain(build_plugins(plugins), audit=audit)
    for iid, mid in INSTRUMENTS.items():
        chain.on_quote(iid, mid - 0.01, mid + 0.01, 500, 500, T0)
        for level in range(5):  # a few working orders per side, as a quoting book has
            for side in (1, -1):
                chain.check(OrderIntent(kind="new", strategy_id="S", instrument_id=iid, client_order_id=f"W-{iid}-{level}-{side}",
                                        side=side, quantity=100, price=round(mid - side * 0.01 * (level + 1), 2), ts_ns=T0))
    return chain


def measure(plugins: list[dict], messages: list, audit_dir: Path | None) -> list[float]:
    audit = AuditTrail(audit_dir / f"a{len(plugins)}.jsonl", {"bench": True}) if audit_dir is not None else None
    chain = _chain(plugins, audit)
    working = {iid: [c for c, o in chain.state.working.items() if o.instrument_id == iid] for iid in INSTRUMENTS}
    samples = []
    ts = T0
    gc.disable()
    try:
        for kind, iid, side, qty, price, coid in messages:
            ts += 20_000
            if kind != "new":
                coid = working[iid][hash(coid) % len(working[iid])]
                side = chain.state.working[coid].side
            intent = OrderIntent(kind=kind, strategy_id="S", instrument_id=iid, client_order_id=coid, side=side,
                                 quantity=qty, price=price, ts_ns=ts)
            t = time.perf_counter_ns()
            chain.check(intent)
            samples.append((time.perf_counter_ns() - t) / 1000)
            if kind == "new" and intent.allowed:
                # Keep the book steady: the new order replaces a working one of its instrument.
                chain.on_order_event("canceled", working[iid].pop(0), ts)
                working[iid].append(coid)
    finally:
        gc.enable()
    if audit is not None:
        audit.close(ts)
    return samples


def bus_hop(n: int) -> list[float]:
    """Nautilus MessageBus.send to a Python handler, as the strategy reaches the chain."""
    from nautilus_trader.common.component import MessageBus, TestClock
    from nautilus_trader.model.identifiers import TraderId

    bus = MessageBus(TraderId("BENCH-001"), TestClock())
    bus.register("hftmm.risk.check", lambda intent: None)
    intent = OrderIntent(kind="new", strategy_id="S", instrument_id="ACME.XNYS", client_order_id="O", side=1, quantity=1)
    samples = []
    for _ in range(n):
        t = time.perf_counter_ns()
        bus.send("hftmm.risk.check", intent)
        samples.append((time.perf_counter_ns() - t) / 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    messages = _messages(args.messages)
    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}")
    print(f"{args.messages} messages (30% new, 50% amend, 20% cancel) over 3 instruments with 10 working orders each\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, plugins, audit in (
            ("gate only (no plugins)", [], False),
            ("all plugins, no audit", ALL_PLUGINS, False),
            ("all plugins + audit trail", ALL_PLUGINS, True),
        ):
            measure(plugins, messages[:2000], Path(tmp) if audit else None)  # warm-up
            s = sorted(measure(plugins, messages, Path(tmp) if audit else None))
            rows.append((name, statistics.median(s), s[int(0.99 * len(s))], statistics.fmean(s)))
    s = sorted(bus_hop(args.messages))
    rows.append(("MessageBus.send hop (strategy -> chain)", statistics.median(s), s[int(0.99 * len(s))], statistics.fmean(s)))
    print(f"{'per order message':<42} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8}")
    for name, p50, p99, mean in rows:
        print(f"{name:<42} {p50:>8.2f} {p99:>8.2f} {mean:>8.2f}")


if __name__ == "__main__":
    main()
