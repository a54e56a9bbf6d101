"""A deterministic, realistic NYSE Daily TAQ day for a few fictitious symbols (the demo's data).

:func:`generate_taq_day` writes the four file kinds of a Daily TAQ day in the exact v3.x text
layouts (headers copied from NYSE's 2018 samples, pipe-delimited rows sorted by symbol then time,
15-digit ET times, quote sizes in round lots, an ``END|YYYYMMDD|<count>|…`` trailer, optional gzip):

* ``EQY_US_ALL_TRADE_YYYYMMDD``: lit and off-exchange (TRF) prints with 4-character sale conditions,
  auction prints and official open/close markers, a few corrected and cancelled trades;
* ``SPLITS_US_ALL_BBO_{L}_YYYYMMDD``: every participant quote, one shard per first letter used;
* ``EQY_US_ALL_NBBO_YYYYMMDD``: the quotes that changed the NBBO and carried a Best_* appendage (the
  quotes that are themselves the NBBO stay in the quote file only, as in real TAQ);
* ``EQY_US_ALL_REF_MASTER_YYYYMMDD``: the 36-column 2018 master with one row per symbol and the
  ``ZVZZT`` test symbol.

The market itself (efficient price, venues' queues, informed order flow) is simulated in
:mod:`hftmm.sample.market_sim`; this module turns it into bytes and assigns what the SIPs assign
across symbols (sequence numbers per feed, trade ids per venue).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hftmm.sample.market_sim import PROFILES, SymbolDay, SymbolProfile, simulate_symbol_day
from hftmm.sample.taq_format import (
    MASTER_HEADER,
    NBBO_HEADER,
    QUOTE_HEADER,
    TRADE_HEADER,
    TRADED_ON_LETTERS,
    taq_price,
    taq_times,
    write_taq_file,
)

__all__ = [
    "MASTER_HEADER",
    "NBBO_HEADER",
    "PROFILES",
    "QUOTE_HEADER",
    "TRADE_HEADER",
    "SampleTaqFiles",
    "SymbolProfile",
    "generate_taq_day",
]

# Reference row of the test symbol every real master file carries; consumers must drop it.
TEST_SYMBOL = SymbolProfile(
    "ZVZZT", "NASDAQ TEST STOCK", "", "A", "Q", "C", 10.0, 0.01, 0.0, 1.0, 0.0, 0.0, 0, 0, 0.0, ("Q",),
)
_SYMBOL_RE = re.compile(r"^[A-Z]{1,5}( [A-Z]{1,3})?$")
# Deterministic streams besides the per-symbol ones: SIP sequence gaps and trade-id bases.
_STREAM_SEQUENCE = 0x5E0
_STREAM_TRADE_ID = 0x1D


@dataclass(frozen=True)
class SampleTaqFiles:
    """Paths of one generated TAQ day.

    Attributes
    ----------
    date : datetime.date
        Trade date (in every file name).
    trades : Path
        ``EQY_US_ALL_TRADE_YYYYMMDD[.gz]``.
    quotes : tuple of Path
        ``SPLITS_US_ALL_BBO_{L}_YYYYMMDD[.gz]``, one per first letter used, in letter order.
    nbbo : Path
        ``EQY_US_ALL_NBBO_YYYYMMDD[.gz]``.
    master : Path
        ``EQY_US_ALL_REF_MASTER_YYYYMMDD[.gz]``.
    symbols : tuple of str
        Simulated symbols, sorted (the master's test symbol is not among them).
    """

    date: dt.date
    trades: Path
    quotes: tuple[Path, ...]
    nbbo: Path
    master: Path
    symbols: tuple[str, ...]


def _symbol_rng(seed: int, stream: Sequence[int]) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def _sequence_numbers(times: list[np.ndarray], rng: np.random.Generator, start: int, max_gap: int) -> list[np.ndarray]:
    """SIP sequence numbers of one feed: increasing with time across all its symbols.

    The gaps stand for the messages of the thousands of other symbols on the same channel. Rows
    with equal times keep their order (symbol, then row), so each symbol's numbers increase too.
    """
    sizes = [t.size for t in times]
    if not sum(sizes):
        return [np.zeros(0, np.int64) for _ in times]
    all_t = np.concatenate(times)
    order = np.argsort(all_t, kind="stable")
    seq = np.empty(all_t.size, np.int64)
    seq[order] = start + np.cumsum(rng.integers(1, max_gap + 1, size=all_t.size))
    return np.split(seq, np.cumsum(sizes)[:-1])


def _trade_ids(days: list[SymbolDay], seed: int) -> list[list[int]]:
    """Trade ids: per reporting venue (per TRF for ``D``), 14 digits, increasing with time.

    Each venue's numbering comes from its own stream of (seed, venue), so it does not depend on
    which other venues print that day.
    """
    keys = np.array([f"{x}{trf}" for d in days for x, trf in zip(d.t_exchange, d.t_trf, strict=True)], dtype=object)
    flat_t = np.concatenate([np.asarray(d.t_time, np.int64) for d in days])
    ids = np.zeros(flat_t.size, np.int64)
    for key in sorted(set(keys.tolist())):
        rows = np.flatnonzero(keys == key)
        rows = rows[np.argsort(flat_t[rows], kind="stable")]
        rng = _symbol_rng(seed, (_STREAM_TRADE_ID, *key.encode()))
        ids[rows] = int(rng.integers(10**13, 8 * 10**13)) + np.cumsum(rng.integers(1, 4, size=rows.size))
    bounds = np.cumsum([len(d.t_time) for d in days])[:-1]
    return [part.tolist() for part in np.split(ids, bounds)]


def _quote_rows(d: SymbolDay, seq: np.ndarray) -> tuple[list[str], list[str]]:
    """Quote-file rows and NBBO-file rows of one symbol, in time order."""
    p = d.profile
    letters = p.venues
    times = taq_times(np.asarray(d.q_time, np.int64))
    parts = taq_times(np.asarray(d.q_participant, np.int64))
    price_text: dict[int, str] = {}

    def px(units: int) -> str:
        text = price_text.get(units)
        if text is None:
            text = price_text[units] = taq_price(units)
        return text

    heads = [
        f"{t}|{letters[x]}|{p.symbol}|{px(b)}|{bl}|{px(a)}|{al}|{c}|{s}|{i}|||{cx}|{p.source}"
        for t, x, b, bl, a, al, c, s, i, cx in zip(
            times, d.q_venue, d.q_bid, d.q_bid_lots, d.q_ask, d.q_ask_lots, d.q_cond, seq.tolist(), d.q_ind, d.q_cancel,
            strict=True,
        )
    ]
    # Short-sale restriction indicator '0' and a single-space Security_Status_Indicator, as in the
    # 2018 quote sample; the other trailing indicators are blank in ordinary quotes.
    quotes = [f"{h}||0||||{pt}||| " for h, pt in zip(heads, parts, strict=True)]
    nbbo = [
        f"{heads[r]}|{bc}|{letters[bx] if bx >= 0 else ''}|{px(b)}|{bl}||{ac}|{letters[ax] if ax >= 0 else ''}|"
        f"{px(a)}|{al}|||||{parts[r]}|| "
        for r, bx, b, bl, bc, ax, a, al, ac in zip(
            d.n_row, d.n_bid_venue, d.n_bid, d.n_bid_lots, d.n_bid_cond,
            d.n_ask_venue, d.n_ask, d.n_ask_lots, d.n_ask_cond,
            strict=True,
        )
    ]
    return quotes, nbbo


def _trade_rows(d: SymbolDay, seq: np.ndarray, ids: list[int]) -> list[str]:
    """Trade-file rows of one symbol, in time order."""
    p = d.profile
    times = taq_times(np.asarray(d.t_time, np.int64))
    parts = taq_times(np.asarray(d.t_participant, np.int64))
    trf_raw = np.asarray(d.t_trf_time, np.int64)
    trf_times = taq_times(np.maximum(trf_raw, 0))
    return [
        f"{t}|{x}|{p.symbol}|{c}|{n}|{taq_price(pr)}|N|{corr}|{s}|{tid}|{p.source}|{trf}|{pt}|"
        f"{tt if raw >= 0 else ''}|{1 if c[1] == 'F' else 0}"
        for t, x, c, n, pr, corr, s, tid, trf, pt, tt, raw in zip(
            times, d.t_exchange, d.t_cond, d.t_shares, d.t_price, d.t_correction, seq.tolist(), ids, d.t_trf, parts,
            trf_times, trf_raw.tolist(), strict=True,
        )
    ]


def _master_row(p: SymbolProfile, test_symbol: bool = False) -> str:
    """One 36-column 2018-layout master row."""
    venues = {*p.venues, "D"}
    traded = ["1" if any(letter in venues for letter in letters) else "0" for letters in TRADED_ON_LETTERS]
    agent, number, post, panel = p.specialist
    fields = [
        p.symbol, p.description, p.cusip, p.security_type, p.symbol, "", "Y" if test_symbol else "N", p.listed, p.tape,
        p.unit_of_trade, str(p.round_lot), p.nyse_industry_code, p.shares_outstanding, "", agent, number, post, panel,
        *traded, "", p.effective_date,
    ]
    return "|".join(fields)


def generate_taq_day(
    out_dir: Path,
    *,
    date: dt.date = dt.date(2024, 3, 11),
    symbols: Sequence[str] = ("ACME", "BOLT", "CRUX"),
    seed: int = 20240311,
    scale: float = 1.0,
    gzip: bool = False,
    profiles: Mapping[str, SymbolProfile] | None = None,
) -> SampleTaqFiles:
    """Write one Daily TAQ day (trades, quote shards, NBBO, master) into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Created if missing; files of the same names are replaced.
    date : datetime.date
        Trade date: in the file names and trailers; all times are ET wall clock on that date. The
        default, Monday 2024-03-11, is the first session after the switch to EDT.
    symbols : sequence of str
        Symbols to simulate: names in :data:`PROFILES` or in ``profiles``.
    seed : int
        Same seed and arguments give byte-identical files. Each symbol draws from its own stream
        derived from (seed, symbol), so adding a symbol leaves the others' market unchanged
        (sequence numbers and trade ids, shared across symbols, do change).
    scale : float
        Multiplier on the number of venue quote updates and market orders. At 1.0 each default
        symbol has about 20k-30k participant quotes and 3.4k-3.9k trade prints.
    gzip : bool
        Write ``.gz`` files, as NYSE distributes them.
    profiles : mapping of str to SymbolProfile, optional
        Extra or replacement symbol profiles.

    Returns
    -------
    SampleTaqFiles
        The paths written and the simulated symbols.

    Raises
    ------
    ValueError
        Unknown or malformed symbols, no symbols, or a non-positive scale.
    """
    table = {**PROFILES, **(profiles or {})}
    chosen = sorted(set(symbols))
    if not chosen:
        raise ValueError("no symbols to generate")
    unknown = [s for s in chosen if s not in table]
    if unknown:
        raise ValueError(f"no sample profile for {', '.join(unknown)} (known: {', '.join(sorted(table))})")
    malformed = [s for s in chosen if not _SYMBOL_RE.match(s) or table[s].symbol != s]
    if malformed:
        raise ValueError(f"not a TAQ symbol or profile name mismatch: {', '.join(malformed)}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{date:%Y%m%d}"

    days = [simulate_symbol_day(table[s], _symbol_rng(seed, s.encode()), scale) for s in chosen]

    # The SIPs number messages per feed: CQS quotes and CTS trades for tapes A/B, UTP for tape C.
    seq_rng = _symbol_rng(seed, (_STREAM_SEQUENCE,))
    quote_seq: list[np.ndarray] = [np.zeros(0, np.int64)] * len(days)
    trade_seq: list[np.ndarray] = [np.zeros(0, np.int64)] * len(days)
    for source in ("C", "N"):
        members = [i for i, d in enumerate(days) if d.profile.source == source]
        q = _sequence_numbers([np.asarray(days[i].q_time, np.int64) for i in members], seq_rng, 1_000, 40)
        t = _sequence_numbers([np.asarray(days[i].t_time, np.int64) for i in members], seq_rng, 10_000, 150)
        for i, qs, ts in zip(members, q, t, strict=True):
            quote_seq[i], trade_seq[i] = qs, ts
    trade_ids = _trade_ids(days, seed)

    trade_chunks: list[list[str]] = []
    nbbo_chunks: list[list[str]] = []
    shards: dict[str, list[list[str]]] = {}
    for i, d in enumerate(days):
        quotes, nbbo = _quote_rows(d, quote_seq[i])
        shards.setdefault(d.profile.symbol[0], []).append(quotes)
        nbbo_chunks.append(nbbo)
        trade_chunks.append(_trade_rows(d, trade_seq[i], trade_ids[i]))

    trades_path = write_taq_file(out_dir / f"EQY_US_ALL_TRADE_{stamp}", TRADE_HEADER, trade_chunks, date, gzip)
    quote_paths = tuple(
        write_taq_file(out_dir / f"SPLITS_US_ALL_BBO_{letter}_{stamp}", QUOTE_HEADER, shards[letter], date, gzip)
        for letter in sorted(shards)
    )
    nbbo_path = write_taq_file(out_dir / f"EQY_US_ALL_NBBO_{stamp}", NBBO_HEADER, nbbo_chunks, date, gzip)
    master_rows = [_master_row(d.profile) for d in days]
    if TEST_SYMBOL.symbol not in chosen:
        master_rows.append(_master_row(TEST_SYMBOL, test_symbol=True))
    master_rows.sort(key=lambda row: row.split("|", 1)[0])
    master_path = write_taq_file(out_dir / f"EQY_US_ALL_REF_MASTER_{stamp}", MASTER_HEADER, [master_rows], date, gzip)
    return SampleTaqFiles(date, trades_path, quote_paths, nbbo_path, master_path, tuple(chosen))
