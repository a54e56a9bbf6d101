"""An A-S quoter whose process dies outright when it starts, if told to: a worker crash for the sweep tests."""

from __future__ import annotations

import os

from strategies.avellaneda_stoikov import AvellanedaStoikovConfig, AvellanedaStoikovMarketMaker


class CrashingConfig(AvellanedaStoikovConfig, frozen=True, forbid_unknown_fields=True):
    """A-S parameters plus ``exit_on_start``."""

    exit_on_start: bool = False


class CrashingMarketMaker(AvellanedaStoikovMarketMaker):
    """Ends its process with ``os._exit`` on start when configured to (no exception, no result)."""

    def __init__(self, config: CrashingConfig) -> None:
        super().__init__(config)
        self._exit_on_start = config.exit_on_start

    def on_start(self) -> None:
        if self._exit_on_start:
            os._exit(3)  # what a segfault or the OOM killer looks like from outside
        super().on_start()
