"""A Guéant-Lehalle-Fernandez-Tapia market maker, as a ``MarketMakingStrategy`` plugin.

Quotes one level per side at the GLFT distances from the mid: the exact finite-horizon solution
with the session close as horizon (``horizon = "close"``), or the infinite-horizon closed form
(``"infinite"``). The inventory bound is ``max_position / order_qty`` quote units: the side that
would cross it is not quoted.

Units: prices in dollars; ``sigma`` dollars per sqrt(second) (online EWMA from mid changes, or
the calibrated level times the intraday seasonality curve); ``k`` per dollar; ``a`` fills per
second at the mid; time in seconds; inventory in order-size units.

Fill intensities are per side: the bid's ``(A, k)`` from sells reaching below the mid, the ask's
from buys above it. Equal sides use the closed-form solutions; different sides the numerical
solution of the nonlinear HJB system (``strategies.quoting.glft.GlftSided``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide

from hftmm.models.intensity import fit_intensity
from hftmm.models.toxicity import ToxicityModelError, load_model
from hftmm.models.volatility import ScheduledVolatility, fit_volatility
from strategies.base import InventoryQuoterConfig, MarketMakingStrategy, MarketState, Quotes
from strategies.quoting import glft
from strategies.quoting.ewma_volatility import EwmaVolatility
from strategies.quoting.quote_shaping import ShapingParams, shape_quotes
from strategies.signals import MicropriceTable, fit_microprice, weighted_mid

ET = ZoneInfo("America/New_York")
# The horizon standing in for "infinite" when the sides differ (no closed form): a full session,
# long past the relaxation time of any calibrated equity intensity.
_INFINITE_HORIZON_S = 6.5 * 3600.0


class GlftConfig(InventoryQuoterConfig, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``GlftMarketMaker`` (plus those of ``InventoryQuoterConfig``; its
    ``max_position / order_qty`` is the model's inventory bound Q).

    Parameters
    ----------
    gamma : float
        Risk aversion, per dollar, for inventory in order-size units.
    k : float
        Decay of the fill intensity with distance from the mid, per dollar.
    a : float
        Fill intensity at the mid, per second.
    horizon : "close" or "infinite"
        Exact solution to the session close, or the infinite-horizon closed form.
    refit_tolerance : float
        Relative change of sigma that triggers a new exact solution (it costs a small eigen
        decomposition, so it is not redone on every book event).
    calibration_dir : str, optional
        A folder of ``hftmm calibrate`` results (``<dir>/<INSTRUMENT>/<YYYY-MM-DD>.json``, e.g.
        ``catalog/calibration``): the file of the session's date replaces ``sigma`` (initial
        value) and the ``(a, k)`` of each side (a side without a usable fit takes the other
        side's). Without the file the strategy refuses to quote (see ``disable``).
    seasonality : bool
        With a calibration file: quote with ``sigma(t) = level * sqrt(factor(t))`` from the file's
        intraday variance curve (5-minute buckets from the session open) instead of the online
        EWMA; the level is the file's sigma, replaced at each recalibration by a GARCH fit on
        deseasonalised returns.
    fair_value : "mid", "weighted_mid" or "microprice"
        The price the distances are measured from: the mid; the size-weighted mid (the first-order
        microprice); or Stoikov's micro-price, whose ``g(I, S)`` table is fitted at each
        recalibration from the strategy's own touch snapshots (the weighted mid stands in until
        the first fit; needs ``recalibrate_every_s``).
    toxicity_model : str, optional
        A model from ``hftmm train-toxicity``: each side is widened by ``P(adverse) x
        toxicity_widen_ticks`` ticks and pulled when ``P(adverse) > toxicity_pull_above``. A
        model trained on other features is refused (the strategy logs why and does not quote).
    levels, level_step_ticks : int
        Quote levels per side and their spacing in ticks (``strategies.quoting.quote_shaping``).
    rounding : "step_back" or "join"
        Round the model prices away from the fair value (never narrower than the model), or
        toward it (join the queue one tick closer when the model falls between ticks).
    min_spread_ticks : int
        Minimum distance between our best bid and ask, ticks.
    size_skew_eta : float
        The side that adds inventory quotes ``order_qty * exp(-eta |q| / Q)`` shares (0: off).
    recalibrate_every_s : float, optional
        Refit on a timer, off the book-event path: sigma by GARCH(1,1) (EWMA fallback) and (A, k)
        per side from the last ``recalibrate_window_s`` of mids and trades.
        A fit that is not usable leaves the current values.
    """

    gamma: Annotated[float, msgspec.Meta(gt=0)] = 0.01
    k: Annotated[float, msgspec.Meta(gt=0)] = 100.0
    a: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    horizon: Literal["close", "infinite"] = "close"
    refit_tolerance: Annotated[float, msgspec.Meta(gt=0)] = 0.05
    calibration_dir: str | None = None
    seasonality: bool = False
    fair_value: Literal["mid", "weighted_mid", "microprice"] = "mid"
    toxicity_model: str | None = None
    toxicity_widen_ticks: Annotated[float, msgspec.Meta(ge=0)] = 2.0
    toxicity_pull_above: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.9
    levels: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    level_step_ticks: Annotated[int, msgspec.Meta(ge=1)] = 1
    rounding: Literal["step_back", "join"] = "step_back"
    min_spread_ticks: Annotated[int, msgspec.Meta(ge=1)] = 1
    size_skew_eta: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    recalibrate_every_s: Annotated[float, msgspec.Meta(gt=0)] | None = None
    recalibrate_window_s: Annotated[float, msgspec.Meta(gt=0)] = 1800.0


class GlftMarketMaker(MarketMakingStrategy):
    """One level per side at the GLFT bid and ask."""

    def __init__(self, config: GlftConfig) -> None:
        super().__init__(config)
        self._vol = EwmaVolatility(config.sigma, config.sigma_halflife_s, config.sigma_sample_s)
        self._q_max = max(config.max_position // config.order_qty, 1)
        self._exact: glft.GlftExact | None = None
        # Per side: (A per second, k per dollar) of fills of our bid and of our ask.
        self._bid_intensity = self._ask_intensity = (config.a, config.k)
        self._sided: glft.GlftSided | None = None
        self._seasonal: ScheduledVolatility | None = None
        self._shaping: ShapingParams | None = None  # needs the tick: built on the first quote
        self._toxicity: Callable[[list[float]], float] | None = None
        # Trailing touches (sampled every second: ts, mid, bid, ask, bid size, ask size) and trades
        # for online recalibration.
        self._mid_log: deque[tuple[int, float, float, float, float, float]] = deque()
        self._microprice: MicropriceTable | None = None
        self._trade_log: deque[tuple[int, float, int, float]] = deque()
        self.recalibrations: list[dict[str, float]] = []

    def on_start(self) -> None:
        """A finite horizon needs the session close; a calibration folder needs the day's file."""
        cfg = self.params
        if cfg.horizon == "close" and cfg.session_close_ns is None:
            self.disable("horizon='close' but session_close_ns is not set")
        elif cfg.seasonality and cfg.calibration_dir is None:
            self.disable("seasonality needs calibration_dir (the curve comes from hftmm calibrate)")
        elif cfg.calibration_dir is not None:
            self._load_calibration()
        if cfg.toxicity_model is not None and self.disabled_reason is None:
            try:
                self._toxicity = load_model(cfg.toxicity_model).scorer()
            except ToxicityModelError as e:
                self.disable(str(e))
        super().on_start()
        if cfg.recalibrate_every_s is not None and self.disabled_reason is None:
            self.subscribe_trade_ticks(cfg.instrument_id)
            self.clock.set_timer("glft-recalibrate", timedelta(seconds=cfg.recalibrate_every_s), callback=self._recalibrate)

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Keep the trailing trades, with the mid they printed against, for recalibration."""
        if self.params.recalibrate_every_s is None or not self._mid_log:
            return
        side = {AggressorSide.BUYER: 1, AggressorSide.SELLER: -1}.get(tick.aggressor_side, 0)
        self._trade_log.append((tick.ts_event, float(tick.price), side, self._mid_log[-1][1]))
        self._trim(self._trade_log, tick.ts_event)

    def _trim(self, log: deque, now_ns: int) -> None:
        cutoff = now_ns - int(self.params.recalibrate_window_s * 1e9)
        while log and log[0][0] < cutoff:
            log.popleft()

    def _recalibrate(self, event: TimeEvent) -> None:
        """Refit sigma and (A, k) from the trailing window; keep the current values where a fit fails."""
        now = event.ts_event
        self._trim(self._mid_log, now)
        self._trim(self._trade_log, now)
        if len(self._mid_log) < 2 or self.features is None:
            return
        ts = np.fromiter((row[0] for row in self._mid_log), dtype=np.int64, count=len(self._mid_log))
        touch = np.array([row[1:] for row in self._mid_log], dtype=float)
        mid = touch[:, 0]
        if self.params.fair_value == "microprice" and len(self._mid_log) >= 100:
            self._microprice = fit_microprice(touch[:, 1], touch[:, 2], touch[:, 3], touch[:, 4], self.features.tick)
        if self._seasonal is not None:
            vol = self._seasonal.refit(ts, mid, now)
        else:
            vol = fit_volatility(ts, mid, interval_s=10.0, min_returns=60)
            if vol.sigma > 0:
                self._vol.reset(vol.sigma)
        fits: list[tuple[float, float] | None] = []
        if self._trade_log:
            trades = np.array(self._trade_log, dtype=float)
            t_ns = np.fromiter((t for t, _, _, _ in self._trade_log), dtype=np.int64, count=len(self._trade_log))
            # Only trades of known side calibrate a side (unclassified prints are left out).
            known = trades[:, 2] != 0
            sides = fit_intensity(
                t_ns[known], trades[known, 1], trades[known, 3], self.features.tick,
                now - int(self.params.recalibrate_window_s * 1e9), now, aggressor=trades[known, 2].astype(np.int64),
            )
            tick = self.features.tick
            fits = [(f.a, f.k_per_dollar(tick)) if f.a > 0 and math.isfinite(f.k) and f.k > 0 else None
                    for f in (sides.bid, sides.ask)]
        if fits and fits[0] is not None and fits[1] is not None:
            self._set_intensities(fits[0], fits[1])
        self.recalibrations.append({
            "ts": now, "sigma": self._sigma(now), "sigma_method": vol.method,
            "a_bid": self._bid_intensity[0], "k_bid": self._bid_intensity[1],
            "a_ask": self._ask_intensity[0], "k_ask": self._ask_intensity[1],
            "intensity_sides": sum(f is not None for f in fits), "microprice": self._microprice is not None,
        })

    def on_params_changed(self, old: GlftConfig, new: GlftConfig) -> None:  # type: ignore[override]
        """Re-derive the inventory bound, the shaping and the solutions; a new (a, k) applies
        unless a calibration file supplies them."""
        self._q_max = max(new.max_position // new.order_qty, 1)
        self._shaping = None
        if (new.a, new.k) != (old.a, old.k) and new.calibration_dir is None:
            self._set_intensities((new.a, new.k), (new.a, new.k))
        self._exact = self._sided = None

    def state_snapshot(self) -> dict[str, Any]:
        """The volatility estimate and the fill intensities (calibrated or refitted online), kept
        across a restart or a failover. A seasonal curve comes from the calibration file again."""
        return {"vol": self._vol.snapshot(), "bid_intensity": list(self._bid_intensity),
                "ask_intensity": list(self._ask_intensity)}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Continue from the previous node's estimates."""
        if "vol" in state:
            self._vol.restore(state["vol"])
        if "bid_intensity" in state and "ask_intensity" in state:
            bid, ask = (tuple(float(x) for x in state[side]) for side in ("bid_intensity", "ask_intensity"))
            if len(bid) != 2 or len(ask) != 2 or min(*bid, *ask) <= 0:
                raise ValueError(f"intensities {bid}, {ask} are not two positive (A, k) pairs")
            self._set_intensities(bid, ask)  # type: ignore[arg-type]

    def _set_intensities(self, bid: tuple[float, float], ask: tuple[float, float]) -> None:
        self._bid_intensity, self._ask_intensity = bid, ask
        self._exact = self._sided = None  # re-solve with the new intensities

    def _sigma(self, now_ns: int) -> float:
        return self._seasonal.sigma_at(now_ns) if self._seasonal is not None else self._vol.sigma

    def _load_calibration(self) -> None:
        cfg = self.params
        if cfg.session_close_ns is None:
            self.disable("calibration_dir needs session_close_ns to know the date")
            return
        date = dt.datetime.fromtimestamp(cfg.session_close_ns / 1e9, ET).date()
        path = Path(cfg.calibration_dir) / cfg.instrument_id.value / f"{date.isoformat()}.json"
        if not path.is_file():
            self.disable(f"no calibration {path} (run: hftmm calibrate --symbol {cfg.instrument_id} --date {date})")
            return
        fit = json.loads(path.read_text())
        usable = {s: (float(v["a"]), float(v["k_per_dollar"])) for s, v in fit["intensity"].items()
                  if v["a"] > 0 and v["k_per_dollar"]}
        if not usable:
            self.disable(f"{path}: no usable fill intensity on either side")
            return
        # A side whose fit was not usable borrows the other side's: one good side beats a default.
        self._set_intensities(usable.get("bid", usable.get("ask")), usable.get("ask", usable.get("bid")))
        sigma = float(fit["volatility"]["sigma"])
        if sigma > 0:
            self._vol = EwmaVolatility(sigma, cfg.sigma_halflife_s, cfg.sigma_sample_s)
        if cfg.seasonality:
            season = fit.get("seasonality")
            if not season or not season.get("factors"):
                self.disable(f"{path}: seasonality=true but the file has no seasonality curve")
                return
            hh, mm = (int(x) for x in fit.get("window_et", ["09:30"])[0].split(":")[:2])
            open_ns = int(dt.datetime.combine(date, dt.time(hh, mm), ET).timestamp()) * 1_000_000_000
            self._seasonal = ScheduledVolatility(
                cfg.recalibrate_every_s or math.inf, interval_s=10.0, min_returns=60,
                seasonality=np.array(season["factors"], dtype=float), session_start_ns=open_ns,
                bucket_s=float(season["bucket_s"]), sigma0=sigma if sigma > 0 else cfg.sigma,
            )
        (ab, kb), (aa, ka) = self._bid_intensity, self._ask_intensity
        self.log.info(f"calibration {path}: sigma={sigma:.6f} $/sqrt(s), bid A={ab:.4f}/s k={kb:.1f}/$, "
                      f"ask A={aa:.4f}/s k={ka:.1f}/$, seasonality={'on' if self._seasonal else 'off'}")

    def on_market_state(self, state: MarketState) -> None:
        """Feed the volatility estimator (and the recalibration log, one mid per second)."""
        self._vol.update(state.ts_ns, state.mid)
        if self.params.recalibrate_every_s is not None and (
            not self._mid_log or state.ts_ns - self._mid_log[-1][0] >= 1_000_000_000
        ):
            self._mid_log.append(
                (state.ts_ns, state.mid, state.best_bid, state.best_ask, state.best_bid_size, state.best_ask_size),
            )

    def _symmetric(self) -> bool:
        return self._bid_intensity == self._ask_intensity

    def _solution(self, sigma: float, tau_s: float) -> glft.GlftExact | glft.GlftSided:
        """The finite-horizon solution for ``sigma``, re-solved only when sigma moved beyond the tolerance."""
        cfg = self.params
        if self._symmetric():
            if self._exact is None or abs(sigma / self._exact.sigma - 1.0) > cfg.refit_tolerance:
                a, k = self._bid_intensity
                self._exact = glft.GlftExact(cfg.gamma, sigma, k, a, self._q_max)
            return self._exact
        sided = self._sided
        if sided is None or abs(sigma / sided.sigma - 1.0) > cfg.refit_tolerance or tau_s > sided.tau_max:
            (ab, kb), (aa, ka) = self._bid_intensity, self._ask_intensity
            # Solved up to the current horizon (it only shrinks), so one solve serves the rest
            # of the session until sigma or the intensities change.
            sided = self._sided = glft.GlftSided(cfg.gamma, sigma, kb, ab, ka, aa, self._q_max,
                                                 tau_max=max(tau_s, 60.0), points=120)
        return sided

    def get_quotes(self, state: MarketState) -> Quotes:
        """GLFT distances from the mid at the current inventory (in order-size units)."""
        cfg = self.params
        q = state.position / cfg.order_qty
        sigma = self._sigma(state.ts_ns)
        if cfg.horizon == "close" or not self._symmetric():
            # The exact solutions are on the integer inventory grid; a partial fill rounds to the nearest.
            qi = max(-self._q_max, min(self._q_max, round(q)))
            tau = (state.time_to_close_s or 0.0) if cfg.horizon == "close" else _INFINITE_HORIZON_S
            db, da = self._solution(sigma, tau).deltas(tau, qi)
        else:
            a, k = self._bid_intensity
            db, da = glft.asymptotic_deltas(q, cfg.gamma, sigma, k, a)
            if q + 1 > self._q_max:
                db = math.nan
            if q - 1 < -self._q_max:
                da = math.nan
        if self._toxicity is not None and self.features is not None:
            for side in (1, -1):
                vector = self.features.vector(side)
                if vector is None:
                    continue
                p = self._toxicity(vector)
                widen = math.nan if p > cfg.toxicity_pull_above else p * cfg.toxicity_widen_ticks * state.tick
                if side == 1:
                    db += widen
                else:
                    da += widen
        center = state.mid
        if cfg.fair_value == "microprice" and self._microprice is not None:
            center = self._microprice.price(state.best_bid, state.best_ask, state.best_bid_size, state.best_ask_size)
        elif cfg.fair_value != "mid":
            center = weighted_mid(state.best_bid, state.best_ask, state.best_bid_size, state.best_ask_size)
        if self._shaping is None:
            self._shaping = ShapingParams(
                tick=state.tick, base_size=cfg.order_qty, max_position=cfg.max_position, mode=cfg.rounding,
                min_spread_ticks=cfg.min_spread_ticks, levels=cfg.levels, level_step_ticks=cfg.level_step_ticks,
                eta=cfg.size_skew_eta, lot=1,
            )
        # NaN (a side at the inventory bound or pulled as toxic) means no quote on that side.
        return shape_quotes(center - db, center + da, state.position, state.best_bid, state.best_ask, self._shaping)
