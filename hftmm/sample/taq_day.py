"""A deterministic, realistic NYSE Daily TAQ day for a few fictitious symbols.

The files have the exact v3.x layouts of the real ones (headers copied from NYSE's 2018 samples,
pipe-delimited, 15-digit ET times, quote sizes in round lots, an ``END|`` trailer with the row
count), so the demo ingests them through the real parser.

What happens inside: a latent efficient price per symbol (a random walk with a U-shaped intraday
volatility) that trades push in their direction (so fills are adversely selected, as in real
markets); several exchanges each keep a BBO around it whose sizes grow as orders join, shrink as
they cancel or trade, and reset when the level moves; market orders hit the NBBO, some sweep,
some are odd lots, some print off-exchange through a TRF at sub-penny prices; the opening and
closing auctions print once with their official open/close markers; a few trades are later
corrected or cancelled; pre- and post-market quoting is sparse.
"""

from __future__ import annotations

import datetime as dt
import gzip as gz
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

TRADE_HEADER = (
    "Time|Exchange|Symbol|Sale Condition|Trade Volume|Trade Price|Trade Stop Stock Indicator|"
    "Trade Correction Indicator|Sequence Number|Trade Id|Source of Trade|Trade Reporting Facility|"
    "Participant Timestamp|Trade Reporting Facility TRF Timestamp|Trade Through Exempt Indicator"
)
QUOTE_HEADER = (
    "Time|Exchange|Symbol|Bid_Price|Bid_Size|Offer_Price|Offer_Size|Quote_Condition|Sequence_Number|"
    "National_BBO_Ind|FINRA_BBO_Indicator|FINRA_ADF_MPID_Indicator|Quote_Cancel_Correction|Source_Of_Quote|"
    "Retail_Interest_Indicator|Short_Sale_Restriction_Indicator|LULD_BBO_Indicator|"
    "SIP_Generated_Message_Identifier|National_BBO_LULD_Indicator|Participant_Timestamp|FINRA_ADF_Timestamp|"
    "FINRA_ADF_Market_Participant_Quote_Indicator|Security_Status_Indicator"
)
NBBO_HEADER = (
    "Time|Exchange|Symbol|Bid_Price|Bid_Size|Offer_Price|Offer_Size|Quote_Condition|Sequence_Number|"
    "National_BBO_Ind|FINRA_BBO_Indicator|FINRA_ADF_MPID_Indicator|Quote_Cancel_Correction|Source_Of_Quote|"
    "Best_Bid_Quote_Condition|Best_Bid_Exchange|Best_Bid_Price|Best_Bid_Size|Best_Bid_FINRA_Market_Maker_ID|"
    "Best_Offer_Quote_Condition|Best_Offer_Exchange|Best_Offer_Price|Best_Offer_Size|"
    "Best_Offer_FINRA_Market_Maker_ID|LULD_Indicator|LULD_NBBO_Indicator|SIP_Generated_Message_Identifier|"
    "Participant_Timestamp|FINRA_ADF_Timestamp|Security_Status_Indicator"
)
MASTER_HEADER = (
    "Symbol|Security_Description|CUSIP|Security_Type|SIP_Symbol|Old_Symbol|Test_Symbol_Flag|Listed_Exchange|"
    "Tape|Unit_Of_Trade|Round_Lot|NYSE_Industry_Code|Shares_Outstanding|Halt_Delay_Reason|"
    "Specialist_Clearing_Agent|Specialist_Clearing_Number|Specialist_Post_Number|Specialist_Panel|"
    "TradedOnNYSEMKT|TradedOnNASDAQBX|TradedOnNSX|TradedOnFINRA|TradedOnISE|TradedOnEdgeA|TradedOnEdgeX|"
    "TradedOnCHX|TradedOnNYSE|TradedOnArca|TradedOnNasdaq|TradedOnCBOE|TradedOnPSX|TradedOnBATSY|TradedOnBATS|"
    "TradedOnIEX|Tick_Pilot_Indicator|Effective_Date"
)

NS_PER_S = 1_000_000_000
OPEN_S = 9 * 3600 + 30 * 60
CLOSE_S = 16 * 3600
DAY_START_S = 4 * 3600
DAY_END_S = 20 * 3600
ROUND_LOT = 100
TICK = 0.01


@dataclass(frozen=True)
class SymbolProfile:
    """How one fictitious symbol trades."""

    symbol: str
    description: str
    cusip: str
    listed: str  # participant letter of the listing exchange
    tape: str  # A, B or C
    price: float  # opening efficient price, dollars
    daily_vol: float  # fraction of price per regular session
    exchanges: tuple[str, ...]  # lit venues quoting it, the listing venue first

    @property
    def source(self) -> str:
        """Quote/trade source: CQS/CTS (``C``) for tapes A and B, UTP (``N``) for tape C."""
        return "N" if self.tape == "C" else "C"


PROFILES: dict[str, SymbolProfile] = {
    "ACME": SymbolProfile("ACME", "Acme Industrial Corp", "00099A101", "N", "A", 50.0, 0.015,
                          ("N", "P", "T", "Z", "K", "Y", "J", "V")),
    "BOLT": SymbolProfile("BOLT", "Bolt Semiconductor Inc", "00099B102", "Q", "C", 80.0, 0.012,
                          ("Q", "P", "Z", "K", "Y", "J", "V", "X")),
    "CRUX": SymbolProfile("CRUX", "Crux Energy Trust ETF", "00099C103", "P", "B", 15.0, 0.012,
                          ("P", "T", "Z", "K", "Y", "V", "C")),
}


@dataclass(frozen=True)
class SampleTaqFiles:
    """Paths of one generated TAQ day."""

    date: dt.date
    trades: Path
    quotes: tuple[Path, ...]
    nbbo: Path
    master: Path
    symbols: tuple[str, ...]


def fmt_time(ns_since_midnight: int) -> str:
    """ET wall-clock nanoseconds since midnight as TAQ's ``HHMMSSnnnnnnnnn``."""
    s, ns = divmod(ns_since_midnight, NS_PER_S)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}{m:02d}{sec:02d}{ns:09d}"


def fmt_price(ticks_or_price: float) -> str:
    """A price as TAQ prints it: no trailing zeros (``48.05``, ``30``, ``65.9799``)."""
    text = f"{ticks_or_price:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def _event_times(rng: np.random.Generator, n_session: int, n_outside: int) -> np.ndarray:
    """Sorted event times (ns since ET midnight): U-shaped in the session, sparse outside it."""
    session_len = CLOSE_S - OPEN_S
    # U shape: density proportional to 1 + 2.5*(2u-1)^2 over the session fraction u.
    u = rng.random(n_session * 3)
    keep = rng.random(u.size) * 3.5 < 1 + 2.5 * (2 * u - 1) ** 2
    u = u[keep][:n_session]
    inside = (OPEN_S + u * session_len) * NS_PER_S
    pre = rng.uniform(DAY_START_S, OPEN_S, n_outside // 2) * NS_PER_S
    post = rng.uniform(CLOSE_S, DAY_END_S - 1, n_outside - n_outside // 2) * NS_PER_S
    times = np.concatenate([pre, inside, post]).astype(np.int64)
    times.sort()
    return np.unique(times)


class _Exchange:
    """One lit venue's BBO for one symbol, in ticks and round lots."""

    __slots__ = ("bid", "ask", "bid_lots", "ask_lots", "quoted")

    def __init__(self) -> None:
        self.bid = 0
        self.ask = 0
        self.bid_lots = 0
        self.ask_lots = 0
        self.quoted = False


class _SymbolDay:
    """Simulates one symbol's day and appends TAQ rows to the given lists."""

    def __init__(self, profile: SymbolProfile, rng: np.random.Generator) -> None:
        self.p = profile
        self.rng = rng
        self.value = profile.price  # efficient price, dollars
        # Volatility per sqrt(second) of the regular session.
        self.sigma = profile.daily_vol * profile.price / math.sqrt(CLOSE_S - OPEN_S)
        self.books = {x: _Exchange() for x in profile.exchanges}
        # Venue weights: the listing venue and the big lit pools quote most.
        w = np.array([3.0 if i == 0 else 1.0 + 1.0 / (i + 1) for i in range(len(profile.exchanges))])
        self.weights = w / w.sum()
        self.nbbo: tuple[int, int, int, int] | None = None
        self.last_t = 0

    # -- the latent price ---------------------------------------------------------------------

    def _diffuse(self, t_ns: int) -> None:
        dt_s = max(t_ns - self.last_t, 0) / NS_PER_S if self.last_t else 0.0
        self.last_t = t_ns
        in_session = OPEN_S * NS_PER_S <= t_ns < CLOSE_S * NS_PER_S
        vol = self.sigma if in_session else self.sigma * 0.3
        self.value += vol * math.sqrt(dt_s) * float(self.rng.standard_normal())
        self.value = max(self.value, 1.0)

    # -- quotes -------------------------------------------------------------------------------

    def _requote(self, x: str) -> _Exchange:
        """Move one exchange's quote toward the efficient price with queue-like size dynamics."""
        rng, book = self.rng, self.books[x]
        v = self.value / TICK
        # Most venues sit at or one tick off the efficient touch; their own half-spread varies.
        half = 0.5 + float(rng.exponential(0.6))
        bid = math.floor(v - half)
        ask = math.ceil(v + half)
        if ask <= bid:
            ask = bid + 1
        if not book.quoted or bid != book.bid:
            book.bid_lots = int(rng.integers(1, 9))
        else:
            book.bid_lots = max(1, book.bid_lots + int(rng.integers(-2, 4)))
        if not book.quoted or ask != book.ask:
            book.ask_lots = int(rng.integers(1, 9))
        else:
            book.ask_lots = max(1, book.ask_lots + int(rng.integers(-2, 4)))
        book.bid, book.ask, book.quoted = bid, ask, True
        return book

    def _national(self) -> tuple[int, int, int, int, str, str]:
        """NBBO across the exchanges' latest two-sided quotes: prices, sizes (lots) and venues.

        The size shown is the best venue's (the one with the most lots at the best price), as the
        SIP's Best_*_Size is one participant's size, not an aggregate.
        """
        best_bid = max((b.bid for b in self.books.values() if b.quoted and b.bid_lots), default=0)
        best_ask = min((b.ask for b in self.books.values() if b.quoted and b.ask_lots), default=0)
        bid_x = max((b.bid_lots, x) for x, b in self.books.items() if b.quoted and b.bid == best_bid and b.bid_lots)
        ask_x = max((b.ask_lots, x) for x, b in self.books.items() if b.quoted and b.ask == best_ask and b.ask_lots)
        return best_bid, bid_x[0], best_ask, ask_x[0], bid_x[1], ask_x[1]

    def quote_event(self, t: int, seq: int, quotes: list[str], nbbo_rows: list[str]) -> int:
        """One venue requotes; venues the price has moved through mostly follow within microseconds.

        Returns the number of quote rows written (the caller advances the sequence number).
        """
        rng, p = self.rng, self.p
        x = p.exchanges[int(rng.choice(len(p.exchanges), p=self.weights))]
        value_ticks = self.value / TICK
        rows = 0
        for other, book in self.books.items():
            if other == x or not book.quoted:
                continue
            # A quote the efficient price has moved through is picked off or pulled first (arbitrage
            # keeps the consolidated market uncrossed); a few locks and crosses linger.
            stale = (book.bid_lots and book.bid >= value_ticks) or (book.ask_lots and book.ask <= value_ticks)
            if stale and rng.random() < 0.97:
                self._emit(other, t + rows * 1_000, seq + rows, quotes, nbbo_rows)
                rows += 1
        self._emit(x, t + rows * 1_000, seq + rows, quotes, nbbo_rows)
        rows += 1
        return rows

    def _emit(self, x: str, t: int, seq: int, quotes: list[str], nbbo_rows: list[str]) -> None:
        rng, p = self.rng, self.p
        book = self._requote(x)
        bid_px, ask_px = book.bid * TICK, book.ask * TICK
        bid_lots, ask_lots = book.bid_lots, book.ask_lots
        one_sided = rng.random()
        if one_sided < 0.01:
            bid_px, bid_lots = 0.0, 0  # bid side withdrawn: TAQ prints 0 price and size
        elif one_sided < 0.02:
            ask_px, ask_lots = 0.0, 0
        book.bid_lots, book.ask_lots = bid_lots, ask_lots
        in_open = OPEN_S * NS_PER_S <= t < (OPEN_S + 1) * NS_PER_S
        condition = "O" if in_open else "R"
        nat = self._national()
        changed = nat[:4] != (self.nbbo or (0, 0, 0, 0))[:4]
        self.nbbo = nat[:4]
        participant = fmt_time(t - int(rng.integers(20_000, 400_000)))
        cqs = p.source == "C"
        appendage = False
        if not changed:
            ind = "0"
        elif nat[4] == x and nat[5] == x:
            ind = "1" if cqs else "4"  # this quote alone is the NBBO: no appendage, quote file only
        else:
            ind, appendage = ("4" if cqs else "3"), True  # long-form appendage: in the NBBO file
        head = f"{fmt_time(t)}|{x}|{p.symbol}|{fmt_price(bid_px)}|{bid_lots}|{fmt_price(ask_px)}|{ask_lots}|{condition}|{seq}"
        quotes.append(f"{head}|{ind}||||{p.source}||||||{participant}||| ")
        if appendage:
            bb, bbs, ba, bas, bx, ax = nat
            nbbo_rows.append(
                f"{head}|{ind}||||{p.source}|R|{bx}|{fmt_price(bb * TICK)}|{bbs}||R|{ax}|"
                f"{fmt_price(ba * TICK)}|{bas}|||||{participant}|| ",
            )
        if rng.random() < 0.001:
            # The SIP later cancels this quote: a row repeating it with Quote_Cancel_Correction 'B'.
            quotes.append(f"{head}|0|||B|{p.source}||||||{participant}||| ")

    # -- trades -------------------------------------------------------------------------------

    def trade_event(self, t: int, seq: int, trade_no: int, trades: list[str]) -> None:
        rng, p = self.rng, self.p
        if self.nbbo is None or not self.nbbo[0] or not self.nbbo[2] or self.nbbo[0] >= self.nbbo[2]:
            return
        bid_t, _, ask_t, _ = self.nbbo
        in_session = OPEN_S * NS_PER_S <= t < CLOSE_S * NS_PER_S
        # Informed flow: buyers arrive more when the efficient price is above the mid.
        mid = 0.5 * (bid_t + ask_t) * TICK
        edge = (self.value - mid) / max((ask_t - bid_t) * TICK, TICK)
        buy = rng.random() < 1.0 / (1.0 + math.exp(-3.0 * edge))
        odd = rng.random() < 0.18
        lots = int(rng.geometric(0.45))
        shares = int(rng.integers(1, ROUND_LOT)) if odd else lots * ROUND_LOT
        sweep = not odd and rng.random() < 0.08
        px_t = (ask_t + (1 if sweep else 0)) if buy else (bid_t - (1 if sweep else 0))
        price = px_t * TICK
        off_exchange = rng.random() < 0.15
        if off_exchange:
            exchange, trf = "D", ("N" if rng.random() < 0.3 else "T")
            if rng.random() < 0.5:
                # Retail internalisation prints at sub-penny price improvement.
                price = price - 0.0001 * int(rng.integers(1, 50)) if buy else price + 0.0001 * int(rng.integers(1, 50))
        else:
            exchange, trf = p.exchanges[int(rng.integers(0, len(p.exchanges)))], ""
            # Lit trades consume the venue's queue; its next quote row starts from what is left
            # (at least a lot: an emptied level is refilled by the venue's next quote).
            book = self.books[exchange]
            if buy and book.ask == ask_t:
                book.ask_lots = max(1, book.ask_lots - max(1, shares // ROUND_LOT))
            elif not buy and book.bid == bid_t:
                book.bid_lots = max(1, book.bid_lots - max(1, shares // ROUND_LOT))
        # Permanent impact in the trade's direction: what makes fills adversely selected.
        self.value += (1 if buy else -1) * 0.15 * TICK * math.sqrt(max(shares, 1) / ROUND_LOT)
        iso = rng.random() < 0.25
        if in_session:
            cond = (" F I" if iso else "   I") if odd else (" F  " if iso else "    ")
        else:
            cond = "  TI" if odd else "  T "
        r = rng.random()
        correction = "01" if r < 0.001 else "08" if r < 0.002 else "12" if r < 0.0025 else "00"
        self._trade_row(t, seq, trade_no, exchange, cond, shares, price, correction, trf, trades)

    def _trade_row(
        self, t: int, seq: int, trade_no: int, exchange: str, cond: str, shares: int, price: float,
        correction: str, trf: str, trades: list[str],
    ) -> None:
        participant = fmt_time(t - int(self.rng.integers(50_000, 900_000)))
        trf_time = fmt_time(t - int(self.rng.integers(1_000, 60_000))) if trf == "T" else ""
        tte = "1" if cond.startswith(" F") else "0"
        trades.append(
            f"{fmt_time(t)}|{exchange}|{self.p.symbol}|{cond}|{shares}|{fmt_price(price)}|N|{correction}|{seq}|"
            f"{52983525000000 + trade_no}|{self.p.source}|{trf}|{participant}|{trf_time}|{tte}",
        )

    def auction(self, t: int, seq: int, trade_no: int, opening: bool, trades: list[str]) -> int:
        """The listing venue's auction print and its official open/close marker; returns rows added."""
        shares = int(self.rng.integers(20, 200)) * ROUND_LOT
        price = round(self.value / TICK) * TICK
        self._trade_row(t, seq, trade_no, self.p.listed, " O  " if opening else " 6  ", shares, price, "00", "", trades)
        self._trade_row(t + 1000, seq + 1, trade_no + 1, self.p.listed, "   Q" if opening else "   M", shares,
                        price, "00", "", trades)
        return 2


def _open(path: Path, use_gzip: bool) -> IO[str]:
    if use_gzip:
        # mtime=0 keeps gzip output byte-identical across runs.
        return gz.open(gz.GzipFile(filename="", mode="wb", fileobj=path.open("wb"), mtime=0), "wt", newline="\n")  # type: ignore[arg-type]
    return path.open("w", newline="\n")


def _write(path: Path, header: str, rows: Sequence[str], date: dt.date, use_gzip: bool) -> Path:
    n_cols = header.count("|") + 1
    trailer = f"END|{date:%Y%m%d}|{len(rows)}" + "|" * (n_cols - 3)
    target = path.with_name(path.name + ".gz") if use_gzip else path
    with _open(target, use_gzip) as f:
        f.write(header + "\n")
        for row in rows:
            f.write(row + "\n")
        f.write(trailer + "\n")
    return target


def _master_row(p: SymbolProfile, date: dt.date) -> str:
    traded = ["1"] * 16  # TradedOn* flags for the 16 venue columns of the 2018 layout
    fields = [
        p.symbol, p.description, p.cusip, "A", p.symbol, "", "N", p.listed, p.tape, "1", str(ROUND_LOT), "",
        "250.00", "", "", "", "", "", *traded, "", f"{date - dt.timedelta(days=3650):%Y%m%d}",
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
) -> SampleTaqFiles:
    """Write one TAQ day (trades, quote shards, NBBO, master) into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Created if missing; existing files of the same names are replaced.
    date : date
        Trade date (goes into the file names; times are ET wall clock on this date).
    symbols : sequence of str
        Names from ``PROFILES``.
    seed : int
        Same seed and arguments give byte-identical files.
    scale : float
        Multiplies the number of quote and trade events (1.0: about 27k quote rows and 5k trades
        per symbol).
    gzip : bool
        Write ``.gz`` files, as NYSE distributes them.
    """
    unknown = [s for s in symbols if s not in PROFILES]
    if unknown:
        raise ValueError(f"no sample profile for {', '.join(unknown)} (known: {', '.join(PROFILES)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{date:%Y%m%d}"
    trades: list[str] = []
    nbbo: list[str] = []
    shards: dict[str, list[str]] = {}
    quote_seq = 1000
    trade_seq = 1000
    trade_no = 0
    for symbol in sorted(symbols):
        profile = PROFILES[symbol]
        # One generator per symbol from (seed, symbol): adding a symbol does not change the others.
        rng = np.random.default_rng([seed, *symbol.encode()])
        sim = _SymbolDay(profile, rng)
        q_times = _event_times(rng, int(15_000 * scale), int(1_500 * scale))
        t_times = _event_times(rng, int(4_500 * scale), int(300 * scale))
        t_times = t_times[t_times > q_times[0]]
        kinds = np.concatenate([np.zeros(q_times.size, np.int8), np.ones(t_times.size, np.int8)])
        times = np.concatenate([q_times, t_times])
        order = np.lexsort((kinds, times))
        quotes = shards.setdefault(symbol[0], [])
        opened = closed = False
        for t, kind in zip(times[order].tolist(), kinds[order].tolist(), strict=True):
            sim._diffuse(t)
            if not opened and t >= OPEN_S * NS_PER_S:
                opened = True
                n = sim.auction(OPEN_S * NS_PER_S + 2_000_000, trade_seq, trade_no, True, trades)
                trade_seq += n
                trade_no += n
            if not closed and t >= CLOSE_S * NS_PER_S:
                closed = True
                n = sim.auction(CLOSE_S * NS_PER_S + 5_000_000, trade_seq, trade_no, False, trades)
                trade_seq += n
                trade_no += n
            if kind == 0:
                quote_seq += sim.quote_event(t, quote_seq + 1, quotes, nbbo)
            else:
                trade_seq += 1
                trade_no += 1
                sim.trade_event(t, trade_seq, trade_no, trades)
    # TAQ files are sorted by symbol, then time; the auctions were appended in time order already.
    trades.sort(key=lambda r: (r.split("|", 3)[2], r[:15]))
    trade_path = _write(out_dir / f"EQY_US_ALL_TRADE_{stamp}", TRADE_HEADER, trades, date, gzip)
    quote_paths = tuple(
        _write(out_dir / f"SPLITS_US_ALL_BBO_{letter}_{stamp}", QUOTE_HEADER, rows, date, gzip)
        for letter, rows in sorted(shards.items())
    )
    nbbo_path = _write(out_dir / f"EQY_US_ALL_NBBO_{stamp}", NBBO_HEADER, nbbo, date, gzip)
    master_rows = [_master_row(PROFILES[s], date) for s in sorted(symbols)]
    master_path = _write(out_dir / f"EQY_US_ALL_REF_MASTER_{stamp}", MASTER_HEADER, master_rows, date, gzip)
    return SampleTaqFiles(date, trade_path, quote_paths, nbbo_path, master_path, tuple(sorted(symbols)))
