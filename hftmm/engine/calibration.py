"""Calibrate a symbol-day from the catalog: volatility, seasonality and per-side fill intensity.

Glue between the catalog (NBBO quote ticks and classified trade ticks) and the pure models in
``hftmm.models``. The result is saved as JSON where strategies can load it
(``<catalog>/calibration/<INSTRUMENT>/<YYYY-MM-DD>.json``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from nautilus_trader.model.data import QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from hftmm.engine.session import et_to_utc_ns
from hftmm.models.intensity import fit_intensity
from hftmm.models.volatility import fit_volatility, seasonality_curve


class CalibrationError(RuntimeError):
    """The catalog lacks what a calibration needs."""


def calibration_path(catalog: Path, instrument_id: str, date: dt.date) -> Path:
    """Where the calibration of one instrument-day is stored."""
    return catalog / "calibration" / instrument_id / f"{date.isoformat()}.json"


def calibrate(
    catalog: Path, instrument_id: str, date: dt.date, start: str = "09:30", end: str = "16:00",
    interval_s: float = 10.0, window_ms: int = 100,
) -> dict[str, Any]:
    """Fit sigma ($/sqrt(s)), the seasonality curve and (A, k) per side for one instrument-day."""
    t0, t1 = et_to_utc_ns(date, start), et_to_utc_ns(date, end)
    cat = ParquetDataCatalog(str(catalog))
    instruments = {str(i.id): i for i in cat.instruments()}
    if instrument_id not in instruments:
        raise CalibrationError(f"instrument {instrument_id} is not in catalog {catalog}")
    tick = float(instruments[instrument_id].price_increment)
    quotes: list[QuoteTick] = cat.query(QuoteTick, identifiers=[instrument_id], start=t0, end=t1)
    trades: list[TradeTick] = cat.query(TradeTick, identifiers=[instrument_id], start=t0, end=t1)
    if len(quotes) < 2:
        raise CalibrationError(f"no NBBO quotes for {instrument_id} between {start} and {end} ET on {date}")
    q_ts = np.array([q.ts_event for q in quotes], dtype=np.int64)
    mid = np.array([(float(q.bid_price) + float(q.ask_price)) / 2 for q in quotes])
    vol = fit_volatility(q_ts, mid, interval_s=interval_s)
    season = seasonality_curve(q_ts, mid, t0, t1, interval_s=interval_s)

    t_ts = np.array([t.ts_event for t in trades], dtype=np.int64)
    px = np.array([float(t.price) for t in trades])
    side = np.array([{AggressorSide.BUYER: 1, AggressorSide.SELLER: -1}.get(t.aggressor_side, 0) for t in trades])
    i = np.searchsorted(q_ts, t_ts, side="left") - 1  # prevailing mid strictly before the trade
    mid_at = np.where(i >= 0, mid[np.clip(i, 0, None)], np.nan)
    fits = fit_intensity(t_ts, px, mid_at, tick, t0, t1, aggressor=side, window_ns=window_ms * 1_000_000)
    bid, ask = fits.bid, fits.ask
    return {
        "instrument_id": instrument_id,
        "date": date.isoformat(),
        "window_et": [start, end],
        "tick": tick,
        "units": {"sigma": "dollars per sqrt(second)", "a": "per second", "k": "per tick", "k_per_dollar": "per dollar"},
        "volatility": vol.to_dict(),
        "seasonality": {"bucket_s": 300, "factors": season.tolist()},
        "intensity": {
            name: {**fit.to_dict(), "k_per_dollar": fit.k_per_dollar(tick) if math.isfinite(fit.k) else None}
            for name, fit in (("bid", bid), ("ask", ask))
        },
        "quotes": len(quotes),
        "trades": len(trades),
    }


def save_calibration(result: dict[str, Any], path: Path) -> Path:
    """Write the calibration JSON (creating folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def load_calibration(path: Path) -> dict[str, Any]:
    """Read a calibration JSON written by ``save_calibration``."""
    return json.loads(Path(path).read_text())
