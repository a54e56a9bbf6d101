"""Parameter changes as data: parse ``strategy.gamma=0.05``-style paths, apply them to the running
parameters, and keep the version history (pure; the actor and the CLI use it).

Paths:

- ``strategy.<key>``: a strategy parameter (all instruments' strategies);
- ``risk.<Plugin>.<key>``: a parameter of the risk plugin whose ``path`` is ``<Plugin>`` or ends
  with ``:<Plugin>``;
- ``risk.plugins``: the whole plugin list (a JSON list).

Values are JSON (``0.05``, ``true``, ``"microprice"``, ``[..]``); text that is not JSON is taken as
a string.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

import msgspec

Status = Literal["applied", "rejected", "rolled_back", "active"]


class ChangeError(ValueError):
    """A change that cannot be applied (names the path)."""


def parse_value(text: str) -> Any:
    """JSON if it parses, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _plugin_index(plugins: list[dict[str, Any]], name: str) -> int:
    for i, spec in enumerate(plugins):
        path = str(spec.get("path", ""))
        if path == name or path.endswith(":" + name):
            return i
    raise ChangeError(f"risk.{name}: no such plugin (configured: {', '.join(str(p.get('path')) for p in plugins) or 'none'})")


def apply_changes(
    strategy: dict[str, Any], plugins: list[dict[str, Any]], changes: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """New copies of the strategy parameters and risk plugin list with ``changes`` applied."""
    strategy, plugins = dict(strategy), copy.deepcopy(plugins)
    for path, value in changes.items():
        parts = path.split(".")
        if parts[0] == "strategy" and len(parts) == 2:
            if parts[1] in ("path", "config_path", "instrument_id"):
                raise ChangeError(f"{path}: cannot change at runtime")
            strategy[parts[1]] = value
        elif parts[:2] == ["risk", "plugins"] and len(parts) == 2:
            if not isinstance(value, list):
                raise ChangeError(f"{path}: expected a list of plugin entries")
            plugins = copy.deepcopy(value)
        elif parts[0] == "risk" and len(parts) == 3:
            plugins[_plugin_index(plugins, parts[1])][parts[2]] = value
        else:
            raise ChangeError(f"{path}: expected strategy.<key>, risk.<Plugin>.<key> or risk.plugins")
    return strategy, plugins


class Version(msgspec.Struct, kw_only=True):
    """One set of parameters that was (or was meant to be) in force."""

    version: int
    ts: int
    by: str
    changes: dict[str, Any]
    strategy: dict[str, Any]
    plugins: list[dict[str, Any]]
    status: Status
    reason: str = ""
    rollback_of: int | None = None


class History:
    """Versions in order; version 0 is the configuration the node started with."""

    def __init__(self, strategy: dict[str, Any], plugins: list[dict[str, Any]], ts: int = 0) -> None:
        self.versions: list[Version] = [Version(version=0, ts=ts, by="start", changes={}, strategy=dict(strategy),
                                                plugins=copy.deepcopy(plugins), status="active")]
        self.current = 0

    @property
    def active(self) -> Version:
        """The version in force."""
        return self.versions[self.current]

    def add(self, ts: int, by: str, changes: dict[str, Any], strategy: dict[str, Any], plugins: list[dict[str, Any]],
            status: Status, reason: str = "", rollback_of: int | None = None) -> Version:
        """Record a version; an applied one becomes the active one."""
        v = Version(version=len(self.versions), ts=ts, by=by, changes=changes, strategy=strategy, plugins=plugins,
                    status=status, reason=reason, rollback_of=rollback_of)
        self.versions.append(v)
        if status == "applied":
            self.current = v.version
        return v

    def previous_good(self) -> Version:
        """The last version before the active one that was in force and not rolled back."""
        for v in reversed(self.versions[: self.current]):
            if v.status in ("applied", "active"):
                return v
        return self.versions[0]
