"""Configuration errors that name the JSON path and the reason."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or out of range.

    Parameters
    ----------
    path : str
        Dotted path of the offending value (``"strategy.gamma"``), or ``""`` for the whole file.
    reason : str
        What is wrong, in words (``"must be > 0, got -1"``).
    source : str, optional
        The file the configuration came from.
    """

    def __init__(self, path: str, reason: str, source: str | None = None) -> None:
        self.path = path
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{path}: {reason}" if path else f"{where}{reason}")
