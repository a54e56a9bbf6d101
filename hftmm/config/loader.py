"""Load, validate and resolve an hftmm configuration file.

Decoding goes file -> Python builtins -> typed Structs in two steps so that a validation error can
quote the offending value as it was written (msgspec's messages name the path but not the value).
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from hftmm.config.errors import ConfigError
from hftmm.config.schema import HftmmConfig, LiveConfig, StrategySection

_PATTERN_NAMES = {
    r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$": "an ET wall-clock time HH:MM[:SS]",
    r"^[A-Z0-9][A-Z0-9.\-/]*\.[A-Z0-9]+$": "an instrument id SYMBOL.VENUE (e.g. ACME.XNYS)",
    r"^[0-9][0-9_]*(\.[0-9]+)? [A-Z]{3}$": "an amount with currency (e.g. '1000000 USD')",
    r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$": "an import path 'package.module:Name'",
    r"^\d+/\d\d:\d\d:\d\d$": "a rate 'N/HH:MM:SS'",
}
_MSG_RE = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_SENTINEL = object()
T = TypeVar("T", HftmmConfig, LiveConfig)


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a JSON, TOML or YAML file into builtins, with a clear error on a syntax problem."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError("", f"cannot read config file: {e.strerror}", str(path)) from e
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            raw = json.loads(data)
        elif suffix == ".toml":
            raw = tomllib.loads(data.decode())
        elif suffix in (".yaml", ".yml"):
            raw = msgspec.yaml.decode(data)
        else:
            raise ConfigError("", f"unsupported config format {suffix!r} (use .json, .toml or .yaml)", str(path))
    except json.JSONDecodeError as e:
        raise ConfigError("", f"invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}", str(path)) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("", f"invalid TOML: {e}", str(path)) from e
    except msgspec.DecodeError as e:
        raise ConfigError("", f"invalid YAML: {e}", str(path)) from e
    if not isinstance(raw, dict):
        raise ConfigError("", "the top level must be an object", str(path))
    return raw


def _lookup(raw: Any, path: str) -> Any:
    """Value at a msgspec path like ``.backtest.instruments[0]`` in builtins, or a sentinel."""
    node = raw
    for key, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        try:
            node = node[key] if key else node[int(index)]
        except (KeyError, IndexError, TypeError):
            return _SENTINEL
    return node


def _describe(msg: str) -> str:
    """Turn msgspec's wording into the reason a user reads."""
    m = re.match(r"Expected `(\w+)` matching regex '(.*)'$", msg)
    if m:
        pattern = m.group(2).encode().decode("unicode_escape")
        return f"must be {_PATTERN_NAMES.get(pattern, 'a string matching ' + pattern)}"
    m = re.match(r"Expected `(\w+)` ([<>]=?) (.+)$", msg)
    if m:
        return f"must be {m.group(2)} {m.group(3).removesuffix('.0')}"
    m = re.match(r"Expected `array` of length ([<>]=?) (\d+)$", msg)
    if m:
        return f"must have {'at least' if m.group(1) == '>=' else 'at most'} {m.group(2)} item(s)"
    m = re.match(r"Expected `(.+?)`, got `(\w+)`$", msg)
    if m:
        return f"must be of type {m.group(1)}, got {m.group(2)}"
    m = re.match(r"Object contains unknown field `(.+)`$", msg)
    if m:
        return f"unknown key {m.group(1)!r}"
    m = re.match(r"Object missing required field `(.+)`$", msg)
    if m:
        return f"required key {m.group(1)!r} is missing"
    return msg[0].lower() + msg[1:] if msg else msg


def validation_error(e: msgspec.ValidationError, raw: Any, prefix: str = "", source: str | None = None) -> ConfigError:
    """Convert a msgspec error into a ConfigError with the dotted path and the offending value."""
    m = _MSG_RE.match(str(e))
    assert m is not None
    msg, path = m.group("msg"), m.group("path") or ""
    reason = _describe(msg)
    value = _lookup(raw, path) if path else _SENTINEL
    # A whole section's value (a cross-field rule) would bury the reason: name only leaf values.
    if value is not _SENTINEL and not isinstance(value, dict) and "unknown key" not in reason and ", got" not in reason:
        reason = f"{reason}, got {json.dumps(value, default=str)}"
    dotted = (prefix + path).lstrip(".")
    # An unknown field is reported at its parent; name the key itself in the path.
    unknown = re.match(r"unknown key '(.+)'$", reason)
    if unknown:
        dotted = f"{dotted}.{unknown.group(1)}".lstrip(".")
        reason = "unknown key"
    return ConfigError(dotted, reason, source)


def _import(path: str, where: str, source: str | None) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(where, f"cannot import module {module_name!r}: {e}", source) from e
    try:
        return getattr(module, attr)
    except AttributeError as e:
        raise ConfigError(where, f"module {module_name!r} has no attribute {attr!r}", source) from e


def validate_strategy_params(section: StrategySection, instrument_id: str, source: str | None = None) -> Any:
    """Decode the strategy parameters into the strategy's own config class for one instrument.

    Returns
    -------
    The strategy config instance (a Nautilus ``StrategyConfig`` subclass for hftmm strategies).
    """
    config_cls = _import(section.config_path, "strategy.config_path", source)
    _import(section.path, "strategy.path", source)
    raw = {**section.params, "instrument_id": instrument_id}
    try:
        return msgspec.convert(raw, config_cls, dec_hook=_nautilus_dec_hook())
    except msgspec.ValidationError as e:
        raise validation_error(e, raw, prefix=".strategy", source=source) from e


def _nautilus_dec_hook() -> Any:
    # Imported lazily: the schema itself stays free of NautilusTrader, only strategy configs need it.
    from nautilus_trader.common.config import msgspec_decoding_hook

    return msgspec_decoding_hook


def _nest_strategy_params(raw: dict[str, Any], source: str | None) -> dict[str, Any]:
    raw = dict(raw)
    strategy = raw.get("strategy")
    if isinstance(strategy, dict):
        strategy = dict(strategy)
        params = {k: strategy.pop(k) for k in list(strategy) if k not in ("path", "config_path")}
        if "params" in params:
            raise ConfigError("strategy.params", "put strategy parameters directly in 'strategy'", source)
        raw["strategy"] = {**strategy, "params": params}
    return raw


def _parse(raw: dict[str, Any], cls: type[T], instruments: Callable[[T], list[str]], source: str | None) -> T:
    raw = _nest_strategy_params(raw, source)
    try:
        config = msgspec.convert(raw, cls)
    except msgspec.ValidationError as e:
        raise validation_error(e, raw, source=source) from e
    for instrument_id in instruments(config):
        validate_strategy_params(config.strategy, instrument_id, source)  # type: ignore[attr-defined]
    from hftmm.risk.config import build_plugins  # the risk package imports the loader's helpers

    build_plugins(config.risk.plugins, source)  # type: ignore[attr-defined]
    return config


def parse_config(raw: dict[str, Any], source: str | None = None) -> HftmmConfig:
    """Validate builtins into an HftmmConfig, including the strategy's and risk plugins' parameters."""
    return _parse(raw, HftmmConfig, lambda c: list(c.backtest.instruments), source)


def parse_live_config(raw: dict[str, Any], source: str | None = None) -> LiveConfig:
    """Validate builtins into a LiveConfig (the same strategy and risk checks as a backtest)."""
    return _parse(raw, LiveConfig, lambda c: list(c.live.instruments), source)


def load_live_config(path: Path | str) -> LiveConfig:
    """Read and validate a live configuration file."""
    path = Path(path)
    return parse_live_config(read_config_file(path), source=str(path))


def load_config(path: Path | str) -> HftmmConfig:
    """Read and validate a configuration file; raise ConfigError naming path and reason."""
    path = Path(path)
    return parse_config(read_config_file(path), source=str(path))


def config_to_builtins(config: HftmmConfig | LiveConfig) -> dict[str, Any]:
    """The resolved configuration as JSON-ready builtins, with strategy params flattened back."""
    out = msgspec.to_builtins(config)
    strategy = out["strategy"]
    out["strategy"] = {"path": strategy["path"], "config_path": strategy["config_path"], **strategy["params"]}
    return out
