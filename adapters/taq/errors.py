"""Errors of the TAQ adapter."""

from __future__ import annotations

from pathlib import Path


class TaqFormatError(ValueError):
    """A TAQ file does not have the expected form.

    Parameters
    ----------
    path : Path
        The file.
    line : int or None
        1-based line number in the (decompressed) file, the header being line 1.
    field : str or None
        The column (as named in the file's header) or ``None`` for a whole-line problem.
    reason : str
        What is wrong.
    """

    def __init__(self, path: Path | str, line: int | None, field: str | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{self.path}" + (f":{line}" if line is not None else "")
        what = f"{field}: {reason}" if field else reason
        super().__init__(f"{where}: {what}")
