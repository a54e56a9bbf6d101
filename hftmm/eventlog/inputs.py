"""Fingerprints of what a run read: the catalog files of its instruments and day, and any other
input file its configuration names (calibrations, models), so a replay can prove it reads the
same bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
from pathlib import Path

# Catalog data folders per config data kind (Nautilus's ParquetDataCatalog layout).
DATA_DIRS = {"order_book_deltas": "order_book_deltas", "quote_ticks": "quote_tick", "trade_ticks": "trade_tick"}


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _covers(name: str, day: dt.date) -> bool:
    """Whether a catalog file named ``<start>_<end>.parquet`` (ISO UTC stamps) overlaps ``day``
    (an ET day spans two UTC dates)."""
    try:
        start, end = (dt.date.fromisoformat(part[:10]) for part in name.removesuffix(".parquet").split("_", 1))
    except ValueError:
        return True  # an unfamiliar name: fingerprint it rather than miss it
    return start <= day + dt.timedelta(days=1) and end >= day


def catalog_fingerprint(catalog: Path, instruments: list[str], kinds: list[str], day: dt.date) -> dict[str, str]:
    """``{relative path: sha256}`` of the catalog files a backtest of ``day`` reads."""
    out: dict[str, str] = {}
    catalog = Path(catalog)
    folders = [DATA_DIRS[k] for k in kinds if k in DATA_DIRS] + ["equity"]
    for folder in folders:
        for iid in instruments:
            for path in sorted((catalog / "data" / folder / iid).glob("*.parquet")):
                if folder == "equity" or _covers(path.name, day):
                    out[str(path.relative_to(catalog))] = file_digest(path)
    return out


def input_files(strategy_params: dict[str, object], instruments: list[str], day: dt.date) -> dict[str, str]:
    """``{path: sha256}`` of the files the strategy parameters name (toxicity model, the day's
    calibration per instrument) that exist."""
    out: dict[str, str] = {}
    model = strategy_params.get("toxicity_model")
    if isinstance(model, str) and Path(model).is_file():
        out[model] = file_digest(Path(model))
    cal = strategy_params.get("calibration_dir")
    if isinstance(cal, str):
        for iid in instruments:
            path = Path(cal) / iid / f"{day.isoformat()}.json"
            if path.is_file():
                out[str(path)] = file_digest(path)
    return out


def run_versions() -> dict[str, str]:
    """The versions a run's results depend on: hftmm, NautilusTrader, Python."""
    from importlib.metadata import version

    import hftmm

    return {"hftmm": hftmm.__version__, "nautilus_trader": version("nautilus_trader"), "python": platform.python_version()}
