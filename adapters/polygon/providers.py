"""Instruments: ``Equity`` from Polygon's ticker reference, named as the TAQ adapter names them.

An instrument id is ``<TICKER>.<MIC of the listing exchange>`` with 4 price decimals, built by the
TAQ adapter's ``make_equity`` so that a symbol ingested from either source is the same instrument
(``AAPL.XNAS``): the ticker endpoint's ``primary_exchange`` MIC goes through the TAQ participant
letter, which also folds Nasdaq's ``T``/``Q`` into XNAS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Equity

from adapters.polygon.errors import PolygonFormatError
from adapters.polygon.rest import PolygonRestClient
from adapters.taq.constants import PARTICIPANT_MIC
from adapters.taq.providers import MasterRecord, day_start_ns, make_equity, taq_symbol

# MIC -> TAQ participant letter (the first letter wins: T before Q is irrelevant, both are XNAS).
LETTER_OF_MIC: dict[str, str] = {}
for _letter, _mic in PARTICIPANT_MIC.items():
    LETTER_OF_MIC.setdefault(_mic, _letter)
TAPE_LETTER = {1: "A", 2: "B", 3: "C"}


def ticker_record(ticker: dict[str, Any], where: str = "tickers") -> MasterRecord:
    """A ``MasterRecord`` from one ``/v3/reference/tickers/{ticker}`` result.

    Raises
    ------
    PolygonFormatError
        No ticker, or a primary exchange hftmm has no venue for.
    """
    symbol = ticker.get("ticker")
    if not isinstance(symbol, str) or not symbol:
        raise PolygonFormatError(where, "ticker", "missing")
    mic = ticker.get("primary_exchange")
    letter = LETTER_OF_MIC.get(str(mic))
    if letter is None:
        raise PolygonFormatError(where, "primary_exchange", f"{symbol}: no venue for primary exchange {mic!r}")
    round_lot = ticker.get("round_lot") or 100
    try:
        round_lot = int(round_lot)
    except (TypeError, ValueError):
        raise PolygonFormatError(where, "round_lot", f"{symbol}: not an integer: {round_lot!r}") from None
    return MasterRecord(
        symbol=taq_symbol(symbol),
        listed_exchange=letter,
        tape="",
        round_lot=round_lot,
        tick="0.01",
        cusip=str(ticker.get("cusip") or ""),
        description=str(ticker.get("name") or ""),
        in_master=False,
        source="polygon-reference",
    )


def fetch_ticker(client: PolygonRestClient, symbol: str, date: dt.date | None = None) -> dict[str, Any]:
    """The ticker reference of ``symbol`` (as of ``date`` when given)."""
    params = {"date": date.isoformat()} if date else None
    data = client.get(f"/v3/reference/tickers/{symbol}", params)
    results = data.get("results")
    if not isinstance(results, dict):
        raise PolygonFormatError(f"/v3/reference/tickers/{symbol}", "results", "missing or not an object")
    return results


def equity_from_ticker(ticker: dict[str, Any], date: dt.date) -> Equity:
    """The ``Equity`` of a ticker reference, stamped at ET midnight of ``date`` (like TAQ's)."""
    return make_equity(ticker_record(ticker), day_start_ns(date))


class PolygonInstrumentProvider(InstrumentProvider):
    """Equities from an hftmm catalog (paper trading, the demo) or from Polygon's ticker reference.

    Parameters
    ----------
    client : PolygonRestClient, optional
        For ``/v3/reference/tickers/{ticker}``.
    catalog_path : str, optional
        Read instruments from this ParquetDataCatalog instead of REST.
    config : InstrumentProviderConfig, optional
        ``load_ids`` / ``load_all``.
    """

    def __init__(
        self,
        client: PolygonRestClient | None = None,
        catalog_path: str | None = None,
        config: InstrumentProviderConfig | None = None,
    ) -> None:
        super().__init__(config=config)
        if client is None and catalog_path is None:
            raise ValueError("give a REST client or a catalog path")
        self._client = client
        self._catalog_path = catalog_path

    def _from_catalog(self) -> list[Equity]:
        from nautilus_trader.persistence.catalog import ParquetDataCatalog

        path = Path(self._catalog_path or "")
        if not path.is_dir():
            raise FileNotFoundError(f"catalog {path} does not exist")
        latest: dict[InstrumentId, Equity] = {}
        for inst in ParquetDataCatalog(str(path)).instruments():
            if isinstance(inst, Equity) and (inst.id not in latest or inst.ts_init >= latest[inst.id].ts_init):
                latest[inst.id] = inst
        return list(latest.values())

    async def load_all_async(self, filters: dict | None = None) -> None:
        """Every instrument of the catalog (REST has no bounded "all" for equities)."""
        if self._catalog_path is None:
            raise ValueError("load_all needs a catalog_path; with REST, list the instruments in load_ids")
        for inst in await asyncio.to_thread(self._from_catalog):
            self.add(inst)

    async def load_ids_async(self, instrument_ids: list[InstrumentId], filters: dict | None = None) -> None:
        """The given instruments, from the catalog or one REST call each."""
        if self._catalog_path is not None:
            found = {i.id: i for i in await asyncio.to_thread(self._from_catalog)}
            for iid in instrument_ids:
                if iid not in found:
                    raise ValueError(f"{iid} is not in the catalog {self._catalog_path}")
                self.add(found[iid])
            return
        assert self._client is not None
        today = dt.date.today()
        for iid in instrument_ids:
            ticker = await asyncio.to_thread(fetch_ticker, self._client, iid.symbol.value)
            inst = equity_from_ticker(ticker, today)
            if inst.id != iid:
                raise ValueError(f"{iid}: Polygon lists {iid.symbol.value} on {inst.id.venue}, i.e. {inst.id}")
            self.add(inst)

    async def load_async(self, instrument_id: InstrumentId, filters: dict | None = None) -> None:
        """One instrument (see ``load_ids_async``)."""
        await self.load_ids_async([instrument_id], filters)
