"""The API key: from the environment or from a file named in the environment, never logged.

Massive's own client reads ``MASSIVE_API_KEY`` (the older Polygon client ``POLYGON_API_KEY``);
``MASSIVE_API_KEY_FILE`` / ``POLYGON_API_KEY_FILE`` name a file holding the key (a mounted
secret). The key is wrapped in ``ApiKey`` whose ``repr``/``str`` hide it, so that a config dump, a
log line or an exception message cannot show it by accident.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from adapters.polygon.errors import PolygonAuthError

KEY_VARIABLES = ("MASSIVE_API_KEY", "POLYGON_API_KEY")
KEY_FILE_VARIABLES = ("MASSIVE_API_KEY_FILE", "POLYGON_API_KEY_FILE")
HIDDEN = "<api-key>"


class ApiKey:
    """An API key that does not print itself.

    Parameters
    ----------
    value : str
        The key.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or any(c.isspace() for c in value):
            raise PolygonAuthError("the API key is empty or contains white space")
        self._value = value

    def reveal(self) -> str:
        """The key itself: only for the request header or the auth frame."""
        return self._value

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the key replaced."""
        return text.replace(self._value, HIDDEN)

    def __repr__(self) -> str:
        return f"ApiKey({HIDDEN})"

    __str__ = __repr__


def load_api_key(
    env: Mapping[str, str] | None = None,
    variables: tuple[str, ...] = KEY_VARIABLES,
    file_variables: tuple[str, ...] = KEY_FILE_VARIABLES,
) -> ApiKey:
    """The API key from the environment.

    Parameters
    ----------
    env : mapping, optional
        The environment (default ``os.environ``).
    variables : tuple of str
        Variables holding the key itself, first found wins.
    file_variables : tuple of str
        Variables naming a file that holds the key (first line, white space stripped); used when
        none of ``variables`` is set.

    Raises
    ------
    PolygonAuthError
        No key found, or the file cannot be read (the message names the variable, not the key).
    """
    env = os.environ if env is None else env
    for name in variables:
        if env.get(name):
            return ApiKey(env[name].strip())
    for name in file_variables:
        path = env.get(name)
        if path:
            try:
                text = Path(path).read_text().strip()
            except OSError as e:
                raise PolygonAuthError(f"{name} names {path}, which cannot be read: {e.strerror}") from None
            return ApiKey(text.splitlines()[0].strip() if text else "")
    raise PolygonAuthError(f"no API key: set one of {', '.join(variables + file_variables)}")
