"""The adverse-selection model: labels, the fast scorer, refusal of mismatched models, and the
train-on-a-run then quote-with-it loop in a backtest."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hftmm.models.toxicity import (
    FEATURES,
    ToxicityModelError,
    label_fills,
    load_model,
    train,
    train_from_run,
)
from strategies.toxicity import ToxicityFeatures

S = 1_000_000_000


def test_labels_by_hand() -> None:
    market_ts = np.array([0, 10 * S, 12 * S], dtype=np.int64)
    mid = np.array([10.00, 9.98, 9.98])
    # A buy at 10.00 with the mid at 9.98 five seconds later: adverse. A sell there: not.
    labels = label_fills(np.array([6 * S, 6 * S, 8 * S]), np.array([1, -1, 1]), np.array([10.0, 10.0, 10.0]),
                         market_ts, mid, 5.0)
    assert labels.tolist() == [1, 0, -1]  # the third's horizon (13 s) passes the data (12 s)


def test_features_follow_the_declared_order() -> None:
    f = ToxicityFeatures(0.01)
    assert f.vector(1) is None
    f.update(0, 10.00, 100, 10.02, 300)
    f.update(2 * S, 9.99, 100, 10.01, 300)
    v = f.vector(1)
    assert v is not None and len(v) == len(FEATURES)
    values = dict(zip(FEATURES, v, strict=True))
    assert values["spread_ticks"] == pytest.approx(2.0)
    assert values["adverse_imbalance"] == pytest.approx(0.5)  # ask side heavier: bad for a buy
    assert values["adverse_move_1s_ticks"] == pytest.approx(1.0)  # mid fell one tick since 1 s ago
    assert f.vector(-1)[2] == pytest.approx(-1.0)


def random_model(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, len(FEATURES)))
    y = (x[:, 1] + 0.5 * rng.standard_normal(400) > 0).astype(int)
    model = train(x, y, 5.0, "synthetic")
    assert model.metadata["holdout_auc"] > 0.75
    return model.save(tmp_path / "m.pkl")


def test_fast_scorer_equals_sklearn(tmp_path: Path) -> None:
    model = load_model(random_model(tmp_path))
    score = model.scorer()
    for v in np.random.default_rng(1).standard_normal((50, len(FEATURES))).tolist():
        assert score(v) == pytest.approx(model.probability(v), abs=1e-9)


def test_mismatched_or_broken_models_are_refused(tmp_path: Path) -> None:
    path = random_model(tmp_path)
    blob = pickle.loads(path.read_bytes())
    blob["features"] = [*FEATURES[:-1], "vpin_rank"]
    (tmp_path / "other.pkl").write_bytes(pickle.dumps(blob))
    with pytest.raises(ToxicityModelError, match=r"model features .*vpin_rank.* do not match the running features"):
        load_model(tmp_path / "other.pkl")
    blob["format_version"] = 99
    (tmp_path / "old.pkl").write_bytes(pickle.dumps(blob))
    with pytest.raises(ToxicityModelError, match="model format 99 is not 1"):
        load_model(tmp_path / "old.pkl")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ToxicityModelError, match="not a toxicity model"):
        load_model(tmp_path / "junk.pkl")
    with pytest.raises(ToxicityModelError, match="no such model file"):
        load_model(tmp_path / "nope.pkl")


def test_too_few_fills_is_a_clear_error() -> None:
    with pytest.raises(ToxicityModelError, match="need at least 20 fills of both outcomes"):
        train(np.zeros((5, len(FEATURES))), np.array([0, 1, 0, 1, 0]), 5.0, "tiny")


def test_train_on_a_run_then_quote_with_the_model(tmp_path: Path) -> None:
    from hftmm.config import parse_config
    from hftmm.engine.backtest import run_backtest
    from tests.backtest.synthetic_catalog import build_catalog

    build_catalog(tmp_path / "cat", n_events=4000, seed=5)
    base = {"date": "2024-03-11", "instruments": ["ACME.XNYS"], "trading_end": "10:30"}
    glft = {"path": "strategies.glft:GlftMarketMaker", "config_path": "strategies.glft:GlftConfig",
            "gamma": 0.05, "k": 300.0, "a": 0.5, "max_position": 500}
    first = run_backtest(parse_config({"backtest": base, "strategy": glft}), catalog_path=tmp_path / "cat",
                         runs_dir=tmp_path / "runs")
    recorded = pd.read_parquet(first.run_dir / "fill_features.parquet")
    assert len(recorded) == json_fills(first.run_dir) and set(FEATURES) <= set(recorded.columns)
    model = train_from_run(first.run_dir, 5.0)
    path = model.save(first.run_dir / "toxicity_model.pkl")
    assert model.metadata["fills"] > 20
    strict = {**glft, "toxicity_model": str(path), "toxicity_pull_above": 0.05}
    second = run_backtest(parse_config({"backtest": base, "strategy": strict}), catalog_path=tmp_path / "cat",
                          runs_dir=tmp_path / "runs")
    # Pulling every side whose P(adverse) exceeds 5% leaves (almost) nothing to fill.
    assert json_fills(second.run_dir) < json_fills(first.run_dir)


def json_fills(run_dir: Path) -> int:
    import json

    return json.loads((run_dir / "summary.json").read_text())["fills"]
