"""Event simulation of one US-equity symbol's day across several exchanges and the FINRA TRFs.

The model, in the order things happen:

* A latent efficient price per symbol: an arithmetic random walk whose volatility is U-shaped over
  the regular session and low outside it, drawn vectorised at every event time before the loop.
* Each exchange keeps its own BBO around the efficient price. On its own updates a venue mostly
  keeps its price levels and lets the size random-walk (orders join, orders cancel, mean-reverting
  towards a venue-specific depth); sometimes it re-targets a level a few ticks from the efficient
  price, and rarely it withdraws one side (TAQ's 0 price / 0 size). When the efficient price moves
  through a venue's quote, the venue re-quotes within microseconds (97 % of the time: the rest
  linger, which produces the rare locked or crossed cross-exchange moments).
* Market orders arrive at the NBBO. Their side is informed by the efficient price 30 s ahead, so
  liquidity providers are adversely selected and markouts look like real ones. Lit orders print at
  venues quoting the touch and consume their queues; orders larger than one venue's queue sweep the
  touch as intermarket sweep orders (ISO, ``F``) across venues. Off-exchange orders print on a FINRA
  TRF (``D``) at the touch, the midpoint or a sub-penny improvement. Every order also pushes the
  efficient price a little (permanent impact).
* The listing venue's opening and closing auctions print once with their official open/close
  markers; venues without extended hours join at the open and close their quotes at 16:00.
* The SIP view: after every participant quote the NBBO (price, then largest size, then earliest
  quote across venues) is recomputed and ``National_BBO_Ind`` set the way the SIPs do, with a
  Best_* appendage recorded for the NBBO file when one would be sent.

All randomness comes from the ``numpy.random.Generator`` passed in, so a (seed, symbol) pair fixes
the day. Prices inside the loop are integer ticks; sizes of quotes are round lots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

NS_PER_S = 1_000_000_000
NS_PER_US = 1_000
DAY_START_NS = 4 * 3600 * NS_PER_S
OPEN_NS = (9 * 3600 + 30 * 60) * NS_PER_S
CLOSE_NS = 16 * 3600 * NS_PER_S
DAY_END_NS = 20 * 3600 * NS_PER_S
SESSION_S = (CLOSE_NS - OPEN_NS) / NS_PER_S
ROUND_LOT = 100

# Event kinds, in the order they are processed when two share a timestamp.
_OPEN, _CLOSE, _QUOTE, _TRADE = 0, 1, 2, 3


@dataclass(frozen=True)
class VenueStyle:
    """How one exchange quotes, whatever the symbol.

    Attributes
    ----------
    weight : float
        Relative rate of the venue's own quote updates.
    aggressiveness : float
        Probability that a re-targeted level sits at the efficient touch rather than behind it.
    depth : float
        Multiplier on the symbol's typical touch size.
    extended_hours : bool
        Quotes and trades from 04:00 to 20:00, not only in the regular session.
    participant_precision_ns : int
        Resolution of the venue's own timestamps (µs for NYSE and Cboe, ns for Nasdaq and Arca).
    """

    weight: float
    aggressiveness: float
    depth: float
    extended_hours: bool
    participant_precision_ns: int


VENUE_STYLES: dict[str, VenueStyle] = {
    "N": VenueStyle(3.0, 0.75, 1.6, False, 1_000),  # NYSE
    "P": VenueStyle(2.0, 0.60, 1.0, True, 1),  # NYSE Arca
    "T": VenueStyle(2.6, 0.70, 1.3, True, 1),  # Nasdaq, tapes A/B
    "Q": VenueStyle(3.0, 0.75, 1.6, True, 1),  # Nasdaq, tape C
    "Z": VenueStyle(1.8, 0.60, 1.0, False, 1_000),  # Cboe BZX
    "K": VenueStyle(1.5, 0.55, 0.9, True, 1_000),  # Cboe EDGX
    "Y": VenueStyle(0.8, 0.40, 0.6, False, 1_000),  # Cboe BYX
    "J": VenueStyle(0.7, 0.40, 0.6, False, 1_000),  # Cboe EDGA
    "V": VenueStyle(0.7, 0.35, 0.5, False, 1),  # IEX
    "X": VenueStyle(0.6, 0.35, 0.5, False, 1),  # Nasdaq PSX
    "C": VenueStyle(0.5, 0.35, 0.5, False, 1),  # NYSE National
    "B": VenueStyle(0.5, 0.35, 0.5, False, 1),  # Nasdaq BX
}


@dataclass(frozen=True)
class SymbolProfile:
    """How one fictitious symbol trades, and its reference-data row.

    Attributes
    ----------
    symbol : str
        TAQ symbol.
    description, cusip, security_type : str
        Master-file reference fields (``security_type`` ``A`` common stock, ``ETF``).
    listed : str
        Participant letter of the listing exchange (runs the auctions).
    tape : str
        ``A``, ``B`` (both CTA: CQS/CTS, source ``C``) or ``C`` (UTP, source ``N``).
    price : float
        Efficient price at 04:00, dollars.
    daily_vol : float
        Standard deviation of the regular-session return (fraction of price).
    half_spread_ticks : float
        Extra distance of the touch from the efficient price; 0 gives mostly one-tick markets.
    depth_lots : float
        Typical size of a venue's touch, in round lots.
    odd_lot_share : float
        Fraction of orders below one round lot.
    off_exchange_share : float
        Fraction of orders printed on a FINRA TRF.
    quote_events, trade_events : int
        Regular-session venue updates and market orders at ``scale=1``.
    auction_lots : float
        Typical opening-auction size in round lots (the close is bigger).
    venues : tuple of str
        Exchanges quoting the symbol, listing venue first.
    unit_of_trade, nyse_industry_code, shares_outstanding, effective_date : str
        Master-file fields.
    specialist : tuple of str
        Specialist clearing agent, clearing number, post and panel (NYSE-listed symbols only).
    tick : int
        Minimum quote increment in 1/10,000 dollar (100 = one cent).
    round_lot : int
        Shares per round lot (quote sizes are printed in these units).
    """

    symbol: str
    description: str
    cusip: str
    security_type: str
    listed: str
    tape: str
    price: float
    daily_vol: float
    half_spread_ticks: float
    depth_lots: float
    odd_lot_share: float
    off_exchange_share: float
    quote_events: int
    trade_events: int
    auction_lots: float
    venues: tuple[str, ...]
    unit_of_trade: str = "1"
    nyse_industry_code: str = ""
    shares_outstanding: str = ""
    effective_date: str = ""
    specialist: tuple[str, str, str, str] = ("", "", "", "")
    tick: int = 100
    round_lot: int = ROUND_LOT

    @property
    def source(self) -> str:
        """SIP of the symbol: ``C`` (CQS/CTS) for tapes A and B, ``N`` (UTP) for tape C."""
        return "N" if self.tape == "C" else "C"


PROFILES: dict[str, SymbolProfile] = {
    "ACME": SymbolProfile(
        "ACME", "Acme Industrial Corporation", "00444X105", "A", "N", "A", 50.0, 0.015, 0.0, 6.0, 0.22, 0.33,
        10_500, 3_200, 250.0, ("N", "T", "P", "Z", "K", "Y", "J", "V"),
        unit_of_trade="4", nyse_industry_code="114A", shares_outstanding="412.55", effective_date="19981102",
        specialist=("G", "5", "8", "O"),
    ),
    "BOLT": SymbolProfile(
        "BOLT", "Bolt Semiconductor, Inc. Common Stock", "09739H102", "A", "Q", "C", 120.0, 0.020, 0.6, 2.5, 0.45,
        0.30, 9_000, 3_600, 150.0, ("Q", "P", "Z", "K", "Y", "J", "V", "X"),
        shares_outstanding="1287.4", effective_date="20110615",
    ),
    "CRUX": SymbolProfile(
        "CRUX", "Crux Energy Transition ETF", "22877R304", "ETF", "P", "B", 15.0, 0.012, 0.0, 25.0, 0.12, 0.35,
        16_000, 3_300, 400.0, ("P", "T", "Z", "K", "Y", "V", "C"),
        shares_outstanding="96.2", effective_date="20150430",
    ),
}


@dataclass
class SymbolDay:
    """One symbol's simulated TAQ rows, column-wise, in time order.

    Quote and trade times are nanoseconds since ET midnight; prices are 1/10,000 dollar; quote sizes
    are round lots, trade sizes shares. ``nbbo_row`` indexes the quote rows that carry a Best_*
    appendage, with the resulting NBBO beside it (``-1`` venue = no side).
    """

    profile: SymbolProfile
    q_time: list[int] = field(default_factory=list)
    q_venue: list[int] = field(default_factory=list)
    q_bid: list[int] = field(default_factory=list)
    q_bid_lots: list[int] = field(default_factory=list)
    q_ask: list[int] = field(default_factory=list)
    q_ask_lots: list[int] = field(default_factory=list)
    q_cond: list[str] = field(default_factory=list)
    q_ind: list[str] = field(default_factory=list)
    q_cancel: list[str] = field(default_factory=list)
    q_participant: list[int] = field(default_factory=list)
    n_row: list[int] = field(default_factory=list)
    n_bid_venue: list[int] = field(default_factory=list)
    n_bid: list[int] = field(default_factory=list)
    n_bid_lots: list[int] = field(default_factory=list)
    n_bid_cond: list[str] = field(default_factory=list)
    n_ask_venue: list[int] = field(default_factory=list)
    n_ask: list[int] = field(default_factory=list)
    n_ask_lots: list[int] = field(default_factory=list)
    n_ask_cond: list[str] = field(default_factory=list)
    t_time: list[int] = field(default_factory=list)
    t_exchange: list[str] = field(default_factory=list)
    t_cond: list[str] = field(default_factory=list)
    t_shares: list[int] = field(default_factory=list)
    t_price: list[int] = field(default_factory=list)
    t_correction: list[str] = field(default_factory=list)
    t_trf: list[str] = field(default_factory=list)
    t_participant: list[int] = field(default_factory=list)
    t_trf_time: list[int] = field(default_factory=list)


class _Uniforms:
    """Uniform [0, 1) draws for the sequential part, pulled from numpy in blocks.

    Drawing one number at a time from numpy costs microseconds per call; blocks turned into Python
    floats cost tens of nanoseconds and keep the stream a pure function of the generator.
    """

    __slots__ = ("_rng", "_buf", "_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i == len(self._buf):
            self._buf = self._rng.random(1 << 15).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


def _u_shaped(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """``n`` times in [lo, hi) with density 1 + 2.5 (2x - 1)^2: busy at the open and close."""
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        x = rng.random(2 * (n - have) + 16)
        keep = x[rng.random(x.size) * 3.5 < 1.0 + 2.5 * (2.0 * x - 1.0) ** 2]
        out.append(keep)
        have += keep.size
    x = np.concatenate(out)[:n] if out else np.zeros(0)
    return (lo + x * (hi - lo)).astype(np.int64)


def _ramp(rng: np.random.Generator, n: int, lo: int, hi: int, rising: bool) -> np.ndarray:
    """``n`` times in [lo, hi) with density growing (pre-market) or fading (after hours) as x^2."""
    x = rng.random(n) ** (1.0 / 3.0)
    if not rising:
        x = 1.0 - x
    return (lo + x * (hi - lo)).astype(np.int64)


def _vol_multiplier(times: np.ndarray) -> np.ndarray:
    """Instantaneous volatility relative to the session average: U-shaped inside, low outside."""
    x = (times - OPEN_NS) / (CLOSE_NS - OPEN_NS)
    inside = (times >= OPEN_NS) & (times < CLOSE_NS)
    # (1 + 1.5 (2x-1)^2) averages 1.5 over the session.
    return np.where(inside, (1.0 + 1.5 * (2.0 * x - 1.0) ** 2) / 1.5, 0.3)


class _Simulation:
    """State and rules of one symbol's day; ``run`` produces its :class:`SymbolDay`."""

    STALE_FOLLOW = 0.97  # share of quotes the price moved through that are updated at once
    LOCK_CHANCE = 0.08  # share of would-be locking quotes that ignore the locked-market rule
    CATCH_UP = 0.5  # chance a venue two or more ticks behind the touch improves on its update
    RETARGET = 0.22  # chance a venue moves a level on its own update instead of resizing it
    ONE_SIDED_SESSION = 0.006
    ONE_SIDED_EXTENDED = 0.06
    QUOTE_CANCEL = 0.0008
    CORRECTED = 0.0012
    CANCELLED = 0.0012
    INFORMED = 0.6  # weight of the future-price signal in the order side
    HORIZON_S = 30.0
    IMPACT_TICKS = 0.04  # permanent impact of one round lot, in ticks (square-root law)

    def __init__(self, profile: SymbolProfile, rng: np.random.Generator, scale: float) -> None:
        unknown = [x for x in profile.venues if x not in VENUE_STYLES]
        if unknown or profile.listed not in profile.venues:
            raise ValueError(
                f"{profile.symbol}: venues must be known participant letters ({''.join(VENUE_STYLES)}) and include "
                f"the listing venue {profile.listed!r}; got {profile.venues}",
            )
        self.p = profile
        self.rng = rng
        self.scale = scale
        self.u = _Uniforms(rng)
        self.day = SymbolDay(profile)
        self.venues = profile.venues
        styles = [VENUE_STYLES[x] for x in profile.venues]
        self.styles = styles
        nv = len(styles)
        self.listing = profile.venues.index(profile.listed)
        self.log_miss = [math.log(1.0 - s.aggressiveness) for s in styles]
        self.depth = [profile.depth_lots * s.depth for s in styles]
        self.precision = [s.participant_precision_ns for s in styles]
        self.extended = [s.extended_hours for s in styles]
        self.bid = [0] * nv
        self.bid_lots = [0] * nv
        self.ask = [0] * nv
        self.ask_lots = [0] * nv
        self.cond = ["R"] * nv
        self.stamp = [0] * nv
        self.active: list[int] = [j for j in range(nv) if self.extended[j]]
        self.nbbo: tuple[int, int, int, int, int, int] = (0, 0, -1, 0, 0, -1)
        self.now = DAY_START_NS
        self.session = False
        self.impact = 0.0
        self.tick = profile.tick

    # -- event schedule ---------------------------------------------------------------------

    def _schedule(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Event times, kinds and arguments (venue index for quotes), sorted by (time, kind)."""
        rng, p, s = self.rng, self.p, self.scale
        nv = len(self.venues)
        ext = np.array([j for j in range(nv) if self.extended[j]], dtype=np.int64)
        weights = np.array([st.weight for st in self.styles])
        n_q, n_t = round(p.quote_events * s), round(p.trade_events * s)
        # Outside the regular session only extended-hours venues quote; without one there is no
        # market to trade against either.
        out = 1.0 if ext.size else 0.0
        n_q_pre, n_q_post = round(0.06 * n_q * out), round(0.035 * n_q * out)
        n_t_pre, n_t_post = round(0.035 * n_t * out), round(0.025 * n_t * out)
        # Venues' first quotes shortly after 04:00; the SIP stamps them milliseconds apart.
        boot = DAY_START_NS + (2_000_000 + rng.random(ext.size) * 300_000_000).astype(np.int64)
        q_session = _u_shaped(rng, n_q, OPEN_NS + 50_000_000, CLOSE_NS - 1_000_000)
        q_pre = _ramp(rng, n_q_pre, DAY_START_NS + 400_000_000, OPEN_NS - 1_000_000, rising=True)
        q_post = _ramp(rng, n_q_post, CLOSE_NS + 1_000_000_000, DAY_END_NS - 10 * NS_PER_S, rising=False)
        q_venue_session = rng.choice(nv, size=n_q, p=weights / weights.sum())
        q_venue_out = ext
        if ext.size:
            q_venue_out = ext[rng.choice(ext.size, size=n_q_pre + n_q_post, p=weights[ext] / weights[ext].sum())]
        t_session = _u_shaped(rng, n_t, OPEN_NS + 1_000_000, CLOSE_NS - 1_000_000)
        t_pre = _ramp(rng, n_t_pre, DAY_START_NS + NS_PER_S, OPEN_NS - 1_000_000, rising=True)
        t_post = _ramp(rng, n_t_post, CLOSE_NS + 2 * NS_PER_S, DAY_END_NS - 10 * NS_PER_S, rising=False)
        # NYSE's opening print lands up to a second after 09:30 (the 2018 sample: 09:30:01.004),
        # electronic venues' crosses within milliseconds; the close prints just after 16:00.
        if p.listed == "N":
            open_delay = 400_000_000 + rng.random() * 700_000_000
        else:
            open_delay = 2_000_000 + rng.random() * 30_000_000
        close_delay = 20_000_000 + rng.random() * 600_000_000
        times = np.concatenate([
            boot, q_pre, q_session, q_post, t_pre, t_session, t_post,
            np.array([OPEN_NS + int(open_delay), CLOSE_NS + int(close_delay)], dtype=np.int64),
        ])
        kinds = np.concatenate([
            np.full(boot.size + n_q_pre + n_q + n_q_post, _QUOTE, np.int8),
            np.full(n_t_pre + n_t + n_t_post, _TRADE, np.int8),
            np.array([_OPEN, _CLOSE], np.int8),
        ])
        args = np.concatenate([
            ext, q_venue_out[:n_q_pre], q_venue_session, q_venue_out[n_q_pre:],
            np.full(n_t_pre + n_t + n_t_post + 2, -1, np.int64),
        ])
        order = np.lexsort((kinds, times))
        return times[order], kinds[order], args[order]

    def _efficient_price(self, times: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Efficient price (ticks) at each event and the probability that an order there is a buy."""
        p = self.p
        sigma = p.daily_vol * p.price / (p.tick / 10_000) / math.sqrt(SESSION_S)  # ticks per sqrt(s)
        dt_s = np.diff(times, prepend=times[0]).astype(np.float64) / NS_PER_S
        m = _vol_multiplier(times)
        steps = sigma * m * np.sqrt(dt_s) * self.rng.standard_normal(times.size)
        value = p.price / (p.tick / 10_000) + np.cumsum(steps)
        # Informed flow: the side leans towards where the efficient price will be HORIZON_S later,
        # measured in standard deviations of that move.
        ahead = np.searchsorted(times, times + int(self.HORIZON_S * NS_PER_S), side="right") - 1
        z = (value[ahead] - value) / (sigma * np.maximum(m, 0.3) * math.sqrt(self.HORIZON_S))
        p_buy = 0.5 + self.INFORMED * (1.0 / (1.0 + np.exp(-2.0 * z)) - 0.5)
        p_buy[kinds != _TRADE] = 0.5
        return value, p_buy

    # -- participant quotes -----------------------------------------------------------------

    def _fresh_lots(self, j: int, behind: int) -> int:
        """Size of a newly formed level: bigger further from the touch, thin outside the session."""
        mean = self.depth[j] * (1.0 + 0.7 * behind) * (1.0 if self.session else 0.3)
        return 1 + int(-math.log(1.0 - self.u()) * mean)

    def _behind(self, j: int) -> int:
        """Ticks behind the efficient touch for a re-targeted level (geometric by aggressiveness)."""
        g = int(math.log(1.0 - self.u()) / self.log_miss[j])
        extra = 0 if self.session else 1 + int(self.u() * 4)
        return min(g, 5) + extra

    def _others_best(self, j: int, bids: bool) -> int:
        """Best bid (or ask) displayed by the other active venues, 0 if none."""
        px, lots = (self.bid, self.bid_lots) if bids else (self.ask, self.ask_lots)
        best = 0
        for k in self.active:
            if k != j and px[k] and lots[k] and (best == 0 or (px[k] > best if bids else px[k] < best)):
                best = px[k]
        return best

    def _set_bid(self, j: int, v: float, g: int | None = None) -> None:
        g = self._behind(j) if g is None else g
        bid = math.floor(v - self.p.half_spread_ticks) - g
        if self.u() >= self.LOCK_CHANCE:
            # Reg NMS forbids displaying a quote that locks or crosses another venue's protected
            # quote, so venues price-slide one tick away; the rare exception leaves a brief lock.
            away = self._others_best(j, bids=False)
            if away and bid >= away:
                bid, g = away - 1, g + bid - away + 1
        self.bid[j] = bid
        self.bid_lots[j] = self._fresh_lots(j, g)
        if self.ask[j] and self.ask[j] <= bid:
            self.ask[j] = bid + 1

    def _set_ask(self, j: int, v: float, g: int | None = None) -> None:
        g = self._behind(j) if g is None else g
        ask = math.ceil(v + self.p.half_spread_ticks) + g
        if self.u() >= self.LOCK_CHANCE:
            away = self._others_best(j, bids=True)
            if away and ask <= away:
                ask, g = away + 1, g + away - ask + 1
        self.ask[j] = ask
        self.ask_lots[j] = self._fresh_lots(j, g)
        if self.bid[j] and self.bid[j] >= ask:
            self.bid[j] = ask - 1

    def _resize(self, lots: int, j: int) -> int:
        """Orders join or cancel at an unchanged level, mean-reverting to the venue's depth."""
        target = self.depth[j] * (1.0 if self.session else 0.3)
        step = 1 + int(-math.log(1.0 - self.u()) * target * 0.3)
        if self.u() < target / (target + lots):
            return lots + step
        return lots - step

    def _own_update(self, j: int, v: float) -> None:
        """A venue's own quote update: resize mostly, re-price sometimes, withdraw a side rarely."""
        u = self.u
        h = self.p.half_spread_ticks
        far = 9 + int(h)
        aggressiveness = self.styles[j].aggressiveness
        for is_bid in (True, False):
            px_list, lots_list = (self.bid, self.bid_lots) if is_bid else (self.ask, self.ask_lots)
            setter = self._set_bid if is_bid else self._set_ask
            touch = math.floor(v - h) if is_bid else math.ceil(v + h)
            national = self.nbbo[0] if is_bid else self.nbbo[3]
            px = px_list[j]
            behind = (touch - px) if is_bid else (px - touch)  # ticks less aggressive than the touch
            market_wide = not national or (national < touch if is_bid else national > touch)
            if self.session and market_wide and u() < aggressiveness:
                # A market wider than the efficient touch invites venues to improve it: the
                # competition that keeps liquid names one tick wide.
                setter(j, v, 0)
            elif not px or behind > far or u() < self.RETARGET or (behind > 1 and u() < self.CATCH_UP):
                setter(j, v)
            else:
                lots = self._resize(lots_list[j], j)
                if lots > 0:
                    lots_list[j] = lots
                else:
                    # The level emptied: the venue's next level, one tick further out, shows.
                    px_list[j] = px - 1 if is_bid else px + 1
                    lots_list[j] = self._fresh_lots(j, 1)
        if u() < (self.ONE_SIDED_SESSION if self.session else self.ONE_SIDED_EXTENDED):
            if u() < 0.5:
                self.bid[j], self.bid_lots[j] = 0, 0
            else:
                self.ask[j], self.ask_lots[j] = 0, 0

    def _national(self) -> tuple[int, int, int, int, int, int]:
        """NBBO: best price, then the largest size, then the earliest quote among the venues there."""
        bb = bbs = ba = bas = 0
        bbx = bax = -1
        bb_stamp = ba_stamp = 0
        bid, bid_lots, ask, ask_lots, stamp = self.bid, self.bid_lots, self.ask, self.ask_lots, self.stamp
        for j in self.active:
            px, sz = bid[j], bid_lots[j]
            if px and sz and (px > bb or (px == bb and (sz > bbs or (sz == bbs and stamp[j] < bb_stamp)))):
                bb, bbs, bbx, bb_stamp = px, sz, j, stamp[j]
            px, sz = ask[j], ask_lots[j]
            if px and sz and (ba == 0 or px < ba or (px == ba and (sz > bas or (sz == bas and stamp[j] < ba_stamp)))):
                ba, bas, bax, ba_stamp = px, sz, j, stamp[j]
        return bb, bbs, bbx, ba, bas, bax

    def _emit(self, j: int, cond: str = "R", cancellable: bool = True) -> None:
        """Publish venue ``j``'s current quote as a quote-file row (and NBBO-file row if needed)."""
        d, u, tick = self.day, self.u, self.tick
        self.now += NS_PER_US + int(u() * 40 * NS_PER_US)
        row = len(d.q_time)
        bid, bid_lots, ask, ask_lots = self.bid[j], self.bid_lots[j], self.ask[j], self.ask_lots[j]
        if not (bid and bid_lots):
            bid = bid_lots = 0
        if not (ask and ask_lots):
            ask = ask_lots = 0
        part = self.now - 15 * NS_PER_US - int(u() * 385 * NS_PER_US)
        part -= part % self.precision[j]
        d.q_time.append(self.now)
        d.q_venue.append(j)
        d.q_bid.append(bid * tick)
        d.q_bid_lots.append(bid_lots)
        d.q_ask.append(ask * tick)
        d.q_ask_lots.append(ask_lots)
        d.q_cond.append(cond)
        d.q_cancel.append("")
        d.q_participant.append(part)
        self.cond[j] = cond
        self.stamp[j] = row
        nat = self._national()
        cqs = self.p.source == "C"
        if nat == self.nbbo:
            ind = "0"
        elif not nat[1] and not nat[4]:
            ind = "2" if cqs else "1"  # every venue is closed: no NBBO can be calculated
        elif (nat[0], nat[1], nat[3], nat[4]) == (bid, bid_lots, ask, ask_lots) and {nat[2], nat[5]} <= {j, -1}:
            # The quote alone is the whole NBBO: the SIP sends no appendage, so the row stays in
            # the quote file only (the Holden-Jacobsen completion rule).
            ind = "1" if cqs else "4"
        else:
            short = nat[0] * tick < 1_000_000 and nat[3] * tick < 1_000_000 and nat[1] < 100 and nat[4] < 100
            # CQS: 6 short-form / 4 long-form appendage; UTP: 2 short-form / 3 long-form.
            ind = ("6" if short else "4") if cqs else ("2" if short else "3")
            d.n_row.append(row)
            d.n_bid_venue.append(nat[2])
            d.n_bid.append(nat[0] * tick)
            d.n_bid_lots.append(nat[1])
            d.n_bid_cond.append(self.cond[nat[2]] if nat[2] >= 0 else "")
            d.n_ask_venue.append(nat[5])
            d.n_ask.append(nat[3] * tick)
            d.n_ask_lots.append(nat[4])
            d.n_ask_cond.append(self.cond[nat[5]] if nat[5] >= 0 else "")
        d.q_ind.append(ind)
        self.nbbo = nat
        if cancellable and u() < self.QUOTE_CANCEL:
            # The venue cancels this quote (a repeat of it flagged 'B') and re-sends its standing
            # quote at once, so the book after the pair is the same under either reading of 'B'.
            self.now += NS_PER_US + int(u() * 20 * NS_PER_US)
            d.q_time.append(self.now)
            for col, val in (
                (d.q_venue, j), (d.q_bid, bid * tick), (d.q_bid_lots, bid_lots), (d.q_ask, ask * tick),
                (d.q_ask_lots, ask_lots), (d.q_cond, cond), (d.q_ind, "0"), (d.q_cancel, "B"), (d.q_participant, part),
            ):
                col.append(val)
            self._emit(j, cond, cancellable=False)

    def _follow_price(self, v: float) -> None:
        """Venues whose quote the efficient price moved through re-quote, most within microseconds."""
        bid, ask, u = self.bid, self.ask, self.u
        for j in self.active:
            stale_bid = bid[j] and bid[j] > v
            stale_ask = ask[j] and ask[j] < v
            if (stale_bid or stale_ask) and u() < self.STALE_FOLLOW:
                if stale_bid:
                    self._set_bid(j, v)
                if stale_ask:
                    self._set_ask(j, v)
                self._emit(j)

    # -- trades ------------------------------------------------------------------------------

    def _print(self, exchange: str, cond: str, shares: int, price: int, trf: str = "", precision: int = 1) -> None:
        """Append one trade print; a few are later corrected (01 + a 12 record) or cancelled (08)."""
        d, u = self.day, self.u
        self.now += NS_PER_US + int(u() * 60 * NS_PER_US)
        if exchange == "D":
            # Broker-reported times, millisecond precision, a few ms before the SIP stamp.
            part = self.now - NS_PER_S // 1000 - int(u() * 4 * NS_PER_S // 1000)
            part -= part % 1_000_000
        else:
            part = self.now - 100 * NS_PER_US - int(u() * 800 * NS_PER_US)
            part -= part % precision
        trf_time = self.now - 80 * NS_PER_US - int(u() * 600 * NS_PER_US) if trf == "T" else -1
        r = u() if self.session and cond.strip() not in ("O", "Q", "6", "M") else 1.0
        correction = "08" if r < self.CANCELLED else "01" if r < self.CANCELLED + self.CORRECTED else "00"
        for col, val in (
            (d.t_time, self.now), (d.t_exchange, exchange), (d.t_cond, cond), (d.t_shares, shares),
            (d.t_price, price), (d.t_correction, correction), (d.t_trf, trf), (d.t_participant, part),
            (d.t_trf_time, trf_time),
        ):
            col.append(val)
        if correction == "01":
            # The correction record carries the original, wrong data (here a price off by a tick).
            wrong = price + (self.tick if u() < 0.5 else -self.tick)
            self.now += NS_PER_US
            for col, val in (
                (d.t_time, self.now), (d.t_exchange, exchange), (d.t_cond, cond), (d.t_shares, shares),
                (d.t_price, wrong), (d.t_correction, "12"), (d.t_trf, trf), (d.t_participant, part),
                (d.t_trf_time, trf_time),
            ):
                col.append(val)

    def _order_size(self) -> int:
        """Shares of a market order: odd lots, round lots, mixed lots and the odd block."""
        u, lot = self.u, self.p.round_lot
        if u() < self.p.odd_lot_share:
            return 1 + int(98 * u() ** 1.6)
        lots = 1 + int(math.log(1.0 - u()) / math.log(0.5))
        if u() < 0.01:
            lots *= 10 + int(u() * 40)
        shares = lots * lot
        if u() < 0.12:
            shares += 1 + int(u() * (lot - 2))
        return shares

    def _trade(self, v: float, p_buy: float) -> None:
        """A market order at the NBBO: off-exchange on a TRF, at one lit venue, or an ISO sweep."""
        u, p, lot = self.u, self.p, self.p.round_lot
        bb, _, _, ba, _, _ = self.nbbo
        if not bb or not ba or bb >= ba:
            return  # no two-sided, uncrossed market to trade against
        tick = self.tick
        # Form T follows the clock, not the listing venue: other venues trade from 09:30:00 even
        # before NYSE's opening print.
        session = OPEN_NS <= self.now < CLOSE_NS
        buy = u() < p_buy
        sign = 1 if buy else -1
        shares = self._order_size()
        odd = shares < lot
        touch = ba if buy else bb
        if u() < p.off_exchange_share * (1.0 if session else 1.4):
            r = u()
            if r < 0.35:
                price = touch * tick
            elif r < 0.6:
                price = (bb + ba) * tick // 2  # midpoint cross: half a cent on one-tick spreads
            else:
                improvement = 1 + int(u() * min(30, (ba - bb) * tick // 2 - 1))
                price = touch * tick - sign * improvement  # retail sub-penny improvement (65.9799)
            cond = ("   I" if odd else "    ") if session else ("  TI" if odd else "  T ")
            self._print("D", cond, shares, price, "N" if u() < 0.25 else "T")
            self.impact += sign * 0.5 * self.IMPACT_TICKS * math.sqrt(shares / lot)
            return
        side_px, side_lots = (self.ask, self.ask_lots) if buy else (self.bid, self.bid_lots)
        at_touch = [j for j in self.active if side_px[j] == touch and side_lots[j] > 0]
        if not at_touch:
            return
        # The order goes where the size is (smart routers weigh displayed size).
        total = sum(side_lots[j] for j in at_touch)
        pick = u() * total
        first = at_touch[-1]
        for j in at_touch:
            pick -= side_lots[j]
            if pick < 0:
                first = j
                break
        # Sale condition positions 2-4: ISO flag, Form T outside the session, odd-lot flag.
        iso = "F" if u() < (0.22 if session else 0.06) else " "
        form_t = " " if session else "T"
        if odd:
            cond = f" {iso}{form_t}I"
            self._print(self.venues[first], cond, shares, touch * tick, precision=self.precision[first])
            self.impact += sign * self.IMPACT_TICKS * 0.3
            return
        need = -(-shares // lot)
        if need <= side_lots[first] or not session:
            shares = min(shares, side_lots[first] * lot)
            cond = f" {iso}{form_t} "
            self._print(self.venues[first], cond, shares, touch * tick, precision=self.precision[first])
            self._consume(first, buy, -(-shares // lot), touch)
            self.impact += sign * self.IMPACT_TICKS * math.sqrt(shares / lot)
            return
        # Larger than the chosen venue's queue: an intermarket sweep of the touch, biggest first.
        left = shares
        for j in sorted(at_touch, key=lambda k: (-side_lots[k], k)):
            fill = min(left, side_lots[j] * lot)
            cond = " F I" if fill < lot else " F  "
            self._print(self.venues[j], cond, fill, touch * tick, precision=self.precision[j])
            self._consume(j, buy, -(-fill // lot), touch)
            left -= fill
            if left <= 0:
                break
        self.impact += sign * (0.5 + self.IMPACT_TICKS * math.sqrt(shares / lot))

    def _consume(self, j: int, buy: bool, lots: int, touch: int) -> None:
        """Remove executed lots from a venue's queue and publish its new quote."""
        lots_left = (self.ask_lots if buy else self.bid_lots)[j] - lots
        if lots_left > 0:
            if buy:
                self.ask_lots[j] = lots_left
            else:
                self.bid_lots[j] = lots_left
        elif buy:
            # Queue gone: the venue's next level, one tick further out, becomes its offer.
            self.ask[j] = touch + 1
            self.ask_lots[j] = self._fresh_lots(j, 1)
        else:
            self.bid[j] = touch - 1
            self.bid_lots[j] = self._fresh_lots(j, 1)
        self._emit(j)

    # -- auctions and session boundaries ---------------------------------------------------

    def _auction(self, v: float, opening: bool) -> None:
        """The listing venue's auction print and its official open or close marker."""
        p, u = self.p, self.u
        mean = p.auction_lots * (1.0 if opening else 3.0) * self.scale ** 0.5
        shares = max(p.round_lot, int(-math.log(1.0 - u()) * mean * p.round_lot * 0.5 + mean * p.round_lot * 0.5))
        shares += int(u() * p.round_lot)  # auction volumes are rarely round (11870 in the sample)
        price = round(v) * self.tick
        x = self.venues[self.listing]
        precision = self.precision[self.listing]
        self._print(x, " O  " if opening else " 6  ", shares, price, precision=precision)
        self._print(x, "   Q" if opening else "   M", shares, price, precision=precision)

    def _open(self, v: float) -> None:
        self.session = True
        self._auction(v, opening=True)
        self.active = list(range(len(self.venues)))
        # Every venue publishes its opening quote (condition 'O'), the listing venue first.
        for j in [self.listing, *[k for k in self.active if k != self.listing]]:
            self._set_bid(j, v)
            self._set_ask(j, v)
            self._emit(j, "O", cancellable=False)

    def _close(self, v: float) -> None:
        self._auction(v, opening=False)
        self.session = False
        for j in list(self.active):
            if self.extended[j]:
                continue
            # Venues without a late session close their quote: zero prices and sizes, 'L'.
            self.bid[j] = self.bid_lots[j] = self.ask[j] = self.ask_lots[j] = 0
            self._emit(j, "L", cancellable=False)
            self.active.remove(j)

    # -- driver -----------------------------------------------------------------------------

    def run(self) -> SymbolDay:
        """Simulate the day and return its rows."""
        times, kinds, args = self._schedule()
        value, p_buy = self._efficient_price(times, kinds)
        columns = (times.tolist(), kinds.tolist(), args.tolist(), value.tolist(), p_buy.tolist())
        for t, kind, arg, v0, pb in zip(*columns, strict=True):
            self.now = max(self.now + 1, t)
            v = v0 + self.impact
            if kind == _QUOTE:
                if arg not in self.active:
                    continue  # the venue is closed at this hour
                self._follow_price(v)
                self._own_update(arg, v)
                self._emit(arg)
            elif kind == _TRADE:
                self._follow_price(v)
                self._trade(v, pb)
            elif kind == _OPEN:
                self._open(v)
            else:
                self._close(v)
        return self.day


def simulate_symbol_day(profile: SymbolProfile, rng: np.random.Generator, scale: float) -> SymbolDay:
    """Simulate one symbol's quotes, NBBO appendages and trades for a whole 04:00–20:00 day.

    Parameters
    ----------
    profile : SymbolProfile
        The symbol's market and reference parameters.
    rng : numpy.random.Generator
        Source of all randomness (same state, same day).
    scale : float
        Multiplier on the number of quote updates and orders.

    Returns
    -------
    SymbolDay
        Quote rows (with ``National_BBO_Ind``), NBBO appendages and trade prints in time order.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return _Simulation(profile, rng, scale).run()
