"""Per-share maker/taker fees, the way US equity venues charge them.

Nautilus's ``MakerTakerFeeModel`` charges a fraction of notional, which is the crypto convention;
US equity access fees and rebates are quoted per share (e.g. a $0.0020 maker rebate, a $0.0030
taker fee), so a fill's commission is ``shares * fee_per_share`` with rebates negative.
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.backtest.config import FeeModelConfig
from nautilus_trader.backtest.models import FeeModel
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.objects import Money


class PerShareFeeModelConfig(FeeModelConfig, frozen=True):
    """Configuration of ``PerShareFeeModel``: fees per share in the instrument's quote currency.

    Parameters
    ----------
    maker_per_share : float
        Fee for resting (maker) fills; negative for a rebate.
    taker_per_share : float
        Fee for aggressing (taker) fills.
    """

    maker_per_share: float = -0.0020
    taker_per_share: float = 0.0030


class PerShareFeeModel(FeeModel):
    """Commission = filled shares x the maker or taker fee per share."""

    def __init__(self, config: PerShareFeeModelConfig | None = None) -> None:
        config = config or PerShareFeeModelConfig()
        # Decimal keeps sub-cent fees exact when multiplied by share counts.
        self._maker = Decimal(repr(config.maker_per_share))
        self._taker = Decimal(repr(config.taker_per_share))

    def get_commission(self, order, fill_qty, fill_px, instrument) -> Money:  # noqa: ANN001 - Cython signature
        fee = self._maker if order.liquidity_side == LiquiditySide.MAKER else self._taker
        return Money(fee * fill_qty.as_decimal(), instrument.quote_currency)
