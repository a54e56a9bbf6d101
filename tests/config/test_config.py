"""Configuration decoding: every bad value fails with its JSON path and the reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from hftmm.config import ConfigError, config_to_builtins, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]


def base() -> dict[str, Any]:
    return json.loads((REPO / "configs" / "backtest.json").read_text())


def error_of(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    return info.value


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "configs" / "backtest.json")
    assert config.backtest.instruments == ["ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"]
    assert config.venue.latency.base_ns == 100_000
    assert config.strategy.params["gamma"] == 0.01


def test_strategy_parameter_out_of_range_names_path_and_value() -> None:
    raw = base()
    raw["strategy"]["gamma"] = -1
    e = error_of(raw)
    assert e.path == "strategy.gamma"
    assert str(e) == "strategy.gamma: must be > 0, got -1"


def test_unknown_key_is_named() -> None:
    raw = base()
    raw["backtest"]["sed"] = 1
    e = error_of(raw)
    assert (e.path, e.reason) == ("backtest.sed", "unknown key")


def test_unknown_strategy_parameter_is_named() -> None:
    raw = base()
    raw["strategy"]["gamm"] = 0.1
    e = error_of(raw)
    assert (e.path, e.reason) == ("strategy.gamm", "unknown key")


def test_wrong_type() -> None:
    raw = base()
    raw["venue"]["latency"]["base_ns"] = "fast"
    e = error_of(raw)
    assert e.path == "venue.latency.base_ns"
    assert "must be of type int, got str" in e.reason


def test_probability_upper_bound() -> None:
    raw = base()
    raw["venue"]["prob_fill_on_limit"] = 1.5
    assert str(error_of(raw)) == "venue.prob_fill_on_limit: must be <= 1, got 1.5"


def test_bad_time_and_instrument_formats() -> None:
    raw = base()
    raw["backtest"]["trading_start"] = "9h30"
    assert str(error_of(raw)) == 'backtest.trading_start: must be an ET wall-clock time HH:MM[:SS], got "9h30"'
    raw = base()
    raw["backtest"]["instruments"] = ["acme"]
    e = error_of(raw)
    assert e.path == "backtest.instruments[0]"
    assert "instrument id" in e.reason


def test_missing_section_and_empty_list() -> None:
    raw = base()
    del raw["strategy"]
    assert str(error_of(raw)) == "required key 'strategy' is missing"
    raw = base()
    raw["backtest"]["instruments"] = []
    assert str(error_of(raw)) == "backtest.instruments: must have at least 1 item(s), got []"


def test_bad_import_path() -> None:
    raw = base()
    raw["strategy"]["path"] = "strategies.nope:Missing"
    e = error_of(raw)
    assert e.path == "strategy.path"
    assert "cannot import module 'strategies.nope'" in e.reason


def test_syntax_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"backtest": }')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert str(bad) in str(info.value)
    assert "line 1" in str(info.value)


def test_toml_and_yaml_decode_to_the_same_config(tmp_path: Path) -> None:
    raw = base()
    toml_text = f"""
[backtest]
date = 2024-03-11
instruments = ["ACME.XNYS", "BOLT.XNAS", "CRUX.ARCX"]

[strategy]
path = "{raw['strategy']['path']}"
config_path = "{raw['strategy']['config_path']}"
gamma = 0.01
"""
    (tmp_path / "c.toml").write_text(toml_text)
    yaml_text = f"""
backtest:
  date: "2024-03-11"
  instruments: [ACME.XNYS, BOLT.XNAS, CRUX.ARCX]
strategy:
  path: {raw['strategy']['path']}
  config_path: {raw['strategy']['config_path']}
  gamma: 0.01
"""
    (tmp_path / "c.yaml").write_text(yaml_text)
    assert load_config(tmp_path / "c.toml") == load_config(tmp_path / "c.yaml")


def test_round_trip_through_builtins() -> None:
    config = load_config(REPO / "configs" / "backtest.json")
    again = parse_config(copy.deepcopy(config_to_builtins(config)))
    assert again == config
