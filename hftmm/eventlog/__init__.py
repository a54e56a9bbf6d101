"""hftmm's event log: what Nautilus's event stream lacks (run metadata, quote intents, order
commands with their risk verdicts), append-only beside it; a live node's recorded market data;
and the replay (backtest and live, with the divergence analysis) and projection built on them
(see docs/operations.md). Nautilus-free except ``actor.py``, ``market_data.py`` and the
functions of ``replay.py`` that run an engine."""
