"""Trade rules and aggressor-side inference (pure functions)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from adapters.taq.classify import lee_ready, tick_test
from adapters.taq.conditions import classify_trades
from adapters.taq.config import TaqIngestConfig


def test_tick_test_uses_last_different_price() -> None:
    px = np.array([100, 101, 101, 100, 100, 100, 102], dtype=np.int64)
    assert tick_test(px).tolist() == [0, 1, 1, -1, -1, -1, 1]


def test_lee_ready_strictly_before_mid_and_fallbacks() -> None:
    # NBBO 10.00/10.02 at t=10, then crossed 10.05/10.01 at t=30 (no valid mid after it).
    q_ts = np.array([10, 30], dtype=np.int64)
    bid = np.array([100_000, 100_500], dtype=np.int64)
    ask = np.array([100_200, 100_100], dtype=np.int64)
    trades_ts = np.array([5, 10, 11, 12, 13, 31], dtype=np.int64)
    px = np.array([100_100, 100_200, 100_150, 100_050, 100_100, 100_300], dtype=np.int64)
    side = lee_ready(trades_ts, px, q_ts, bid, ask)
    # t=5: no quote yet, first trade -> unknown. t=10: the quote stamped at the same ns is not
    # prevailing -> tick test (up). t=11 above mid -> buyer. t=12 below -> seller. t=13 at the mid
    # -> tick test (up from 100_050). t=31 prevailing quote crossed -> tick test (up).
    assert side.tolist() == [0, 1, 1, -1, 1, 1]


def test_trade_rules_and_configurable_exclusions() -> None:
    conds = pa.array(["    ", " F I", "  T ", " O  ", "   Q", "@   ", " 4 I", "   I", "    "])
    corr = pa.array(["00", "00", "00", "00", "00", "00", "00", "01", "00"])
    exch = pa.array(["N", "D", "N", "N", "N", "T", "D", "N", "N"])
    price = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 0.0])
    size = np.array([100, 50, 100, 100, 100, 100, 1, 100, 100])
    cfg = TaqIngestConfig()
    out = classify_trades(conds, corr, exch, price, size, 100, cfg.trade_exclude_conditions, cfg.trade_corrections_kept)
    assert out["kept"].tolist() == [True, True, False, True, False, True, False, False, False]
    assert out["reason"].tolist() == ["", "", "condition T", "", "condition Q", "", "condition 4", "correction 01",
                                      "non-positive price"]
    assert out["odd_lot"].tolist() == [False, True, False, False, False, False, True, True, False]
    assert out["auction"].tolist() == [False, False, False, True, False, False, False, False, False]
    assert out["off_exchange"].tolist() == [False, True, False, False, False, False, True, False, False]
    # The exclusion set is configuration: without T the Form-T print is kept.
    relaxed = classify_trades(conds, corr, exch, price, size, 100, "Q", ("00", "01"))
    assert relaxed["kept"].tolist() == [True, True, True, True, False, True, True, True, False]
