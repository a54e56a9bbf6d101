"""The plugin guide's example, extracted from docs/, backtested; and the base class's order rules."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hftmm.config import parse_config
from hftmm.engine.backtest import run_backtest
from tests.backtest.synthetic_catalog import build_catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=3000, seed=2)
    return root


@pytest.fixture(scope="module")
def plugin_module(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Write the guide's first Python block as a module outside the hftmm tree."""
    text = (REPO / "docs" / "plugin-guide.md").read_text()
    code = re.findall(r"```python\n(.*?)```", text, re.S)[1]  # [0] is the get_quotes signature
    where = tmp_path_factory.mktemp("plugin")
    (where / "my_quoter.py").write_text(code)
    sys.path.insert(0, str(where))
    return "my_quoter"


def backtest(catalog: Path, tmp: Path, strategy: dict[str, Any], **backtest_kw: Any) -> Any:
    config = parse_config(
        {"backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30", **backtest_kw},
         "strategy": strategy},
    )
    return run_backtest(config, catalog_path=catalog, runs_dir=tmp)


def resting_counts(run_dir: Path) -> pd.DataFrame:
    """Number of our orders resting per side at every moment a version starts or ends."""
    v = pd.read_parquet(run_dir / "quote_versions.parquet")
    v = v[~v["status"].isin(["REJECTED", "DENIED"])]
    rows = []
    for side, s in v.groupby("side"):
        times = sorted(set(s["ts_init"]) | set(s["ts_last"]))
        for t in times:
            rows.append((side, t, int(((s["ts_init"] <= t) & (s["ts_last"] > t)).sum())))
    return pd.DataFrame(rows, columns=["side", "ts", "resting"])


def test_guide_example_runs_two_levels_and_leans_sizes(catalog: Path, tmp_path: Path, plugin_module: str) -> None:
    out = backtest(catalog, tmp_path, {
        "path": f"{plugin_module}:TwoLevelQuoter", "config_path": f"{plugin_module}:TwoLevelQuoterConfig",
        "half_spread_ticks": 1, "level_step_ticks": 2, "size": 200, "max_position": 400,
    })
    fills = pd.read_parquet(out.run_dir / "fills.parquet")
    orders = pd.read_parquet(out.run_dir / "orders.parquet")
    assert len(fills) > 0 and orders["post_only"].all()
    # At most one working order per level and side: never more than two per side.
    counts = resting_counts(out.run_dir)
    assert counts["resting"].max() <= 2
    assert (counts["resting"] == 2).any()
    # Sizes lean against the position: 100-share orders appear once inventory builds.
    assert {100.0, 200.0} <= set(orders["quantity"])


def test_bad_plugin_parameter_is_refused(plugin_module: str) -> None:
    from hftmm.config import ConfigError

    with pytest.raises(ConfigError, match=r"strategy.size: must be >= 1, got 0"):
        parse_config({"backtest": {"date": "2024-03-11", "instruments": ["ACME.XNYS"]},
                      "strategy": {"path": f"{plugin_module}:TwoLevelQuoter",
                                   "config_path": f"{plugin_module}:TwoLevelQuoterConfig", "size": 0}})


def test_flatten_before_close(catalog: Path, tmp_path: Path) -> None:
    out = backtest(catalog, tmp_path, {
        "path": "strategies.avellaneda_stoikov:AvellanedaStoikovMarketMaker",
        "config_path": "strategies.avellaneda_stoikov:AvellanedaStoikovConfig",
        "k": 300.0, "flatten_before_close_s": 1800,
    })
    fills = pd.read_parquet(out.run_dir / "fills.parquet")
    orders = pd.read_parquet(out.run_dir / "orders.parquet")
    flatten_at = pd.Timestamp("2024-03-11 10:00", tz="America/New_York").value
    signed = fills["quantity"].where(fills["side"] == "BUY", -fills["quantity"])
    assert signed.sum() == 0, "flat at the end"
    late = orders[orders["ts_init"] >= flatten_at]
    # After the flatten time only the closing market order may be sent, and no more quotes.
    assert set(late["order_type"]) <= {"MARKET"}
    assert (orders["ts_init"] < flatten_at).any()


SIZE_PLUGIN = '''
import msgspec
from strategies.base import Level, MarketMakingConfig, MarketMakingStrategy, MarketState, Quotes


class SizeStepConfig(MarketMakingConfig, frozen=True, forbid_unknown_fields=True):
    switch_ns: int = 0
    before: int = 100
    after: int = 300


class SizeStep(MarketMakingStrategy):
    """Quotes 5 ticks away (so it rarely fills) with a size that steps at ``switch_ns``."""

    def get_quotes(self, state: MarketState) -> Quotes:
        size = self.config.before if state.ts_ns < self.config.switch_ns else self.config.after
        return Quotes((Level(state.mid - 5 * state.tick, size),), (Level(state.mid + 5 * state.tick, size),))
'''


@pytest.mark.parametrize(("before", "after"), [(100, 300), (300, 100)])
def test_size_up_is_cancel_replace_and_size_down_is_an_amend(
    catalog: Path, tmp_path: Path, before: int, after: int,
) -> None:
    (tmp_path / "size_step.py").write_text(SIZE_PLUGIN)
    sys.path.insert(0, str(tmp_path))
    switch = pd.Timestamp("2024-03-11 10:00", tz="America/New_York").value
    out = backtest(catalog, tmp_path / "runs", {
        "path": "size_step:SizeStep", "config_path": "size_step:SizeStepConfig",
        "switch_ns": switch, "before": before, "after": after,
    })
    orders = pd.read_parquet(out.run_dir / "orders.parquet")
    versions = pd.read_parquet(out.run_dir / "quote_versions.parquet")
    early = orders[orders["ts_init"] < switch]
    placed = versions[(versions["version"] == 0) & (versions["ts_init"] < switch)]
    assert set(placed["quantity"]) == {float(before)}
    if after > before:
        # The working orders were cancelled and new, bigger ones placed: never amended upwards.
        assert (early["status"] == "CANCELED").any()
        assert set(orders[orders["ts_init"] >= switch]["quantity"]) == {float(after)}
        grew = versions.groupby("client_order_id")["quantity"].agg(lambda q: (q.diff() > 0).any())
        assert not grew.any()
    else:
        # The same orders were amended down in place, keeping their ids.
        shrunk = versions.groupby("client_order_id")["quantity"].agg(lambda q: (q.diff() < 0).any())
        assert shrunk.any()
        assert not (orders["ts_init"] >= switch).all()
    assert resting_counts(out.run_dir)["resting"].max() <= 1
