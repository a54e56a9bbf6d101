"""Configuration of the FIX execution client (a Nautilus ``LiveExecClientConfig``)."""

from __future__ import annotations

from nautilus_trader.config import LiveExecClientConfig, NonNegativeInt, PositiveFloat

from adapters.fix.config import SessionConfig


class FixExecClientConfig(LiveExecClientConfig, frozen=True, kw_only=True):
    """Configuration of ``FixExecutionClient``.

    Put it in ``TradingNodeConfig.exec_clients`` under the venue's MIC (the client id, whose
    account the portfolio uses for that venue's instruments), and register
    ``FixLiveExecClientFactory`` under the same name.

    Parameters
    ----------
    session : SessionConfig
        The FIX session (initiator): CompIDs (``HFTMM`` -> ``HFTMMVENUE`` in the profile), host,
        port, heartbeat, TLS, store (file, or Redis for failover).
    venue : str
        MIC of the instruments routed to this client (``XNYS``); the account is ``<venue>-<account_id>``.
    account_id : str
        Account name; also sent as Account (1) when ``send_account`` is set.
    send_account : bool
        Put Account (1) on orders.
    catalog_path : str, optional
        ParquetDataCatalog holding the instruments (``instrument_provider.load_ids`` / ``load_all``).
    starting_balance : str
        Account balance reported at connect (``"1000000 USD"``): the venue does not report one.
    maker_fee_per_share, taker_fee_per_share : str
        Per-share commission of a fill by its LastLiquidityInd (851): maker (1, added) and taker
        (2, removed); negative is a rebate. Same convention as the backtest's ``PerShareFeeModel``.
    fencing_epoch : int
        FencingEpoch (20001) sent until the node sets ``FixExecutionClient.fencing_epoch`` (failover).
    logon_timeout_s : float
        How long ``connect`` waits for the Logon (and the recovery of a sequence gap).
    request_timeout_s : float
        How long an order status (H) or mass status (AF) request waits for its answers.
    latency_capacity : int
        Tick-to-trade and round-trip samples kept for percentiles.
    """

    session: SessionConfig
    venue: str = "XNYS"
    account_id: str = "001"
    send_account: bool = False
    catalog_path: str | None = None
    starting_balance: str = "1000000 USD"
    maker_fee_per_share: str = "-0.0020"
    taker_fee_per_share: str = "0.0030"
    fencing_epoch: NonNegativeInt = 0
    logon_timeout_s: PositiveFloat = 10.0
    request_timeout_s: PositiveFloat = 5.0
    latency_capacity: NonNegativeInt = 100_000
