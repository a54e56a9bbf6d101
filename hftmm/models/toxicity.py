"""Adverse-selection (toxicity) model: P(a fill is followed by an adverse mid move | market state).

Features are computed online by one class, ``strategies.toxicity.ToxicityFeatures``, fed with the
touch after every book event; the strategy snapshots them at each of its fills (recorded in the run folder as
``fill_features.parquet``) and scores its quotes with them live. Training and serving use the same
code, so there is no train/serve skew. The label is a negative markout: ``side * (mid(t + h) - p) < 0``.

A saved model carries its feature list and a format version; a model whose features differ from
the running code's is refused with an error naming both lists.
"""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
# Every feature is signed by the side of the (hypothetical) fill: +1 our bid filled (we bought),
# -1 our ask filled (we sold); a positive value means the market leans the way that hurts us.
FEATURES: tuple[str, ...] = (
    "spread_ticks",
    "adverse_imbalance",
    "adverse_move_1s_ticks",
    "adverse_move_5s_ticks",
    "adverse_ofi_5s",
)


class ToxicityModelError(ValueError):
    """A model file is missing, unreadable, or does not match the running features."""


@dataclass
class ToxicityModel:
    """A fitted classifier and what it was trained on."""

    classifier: Any
    features: tuple[str, ...]
    horizon_s: float
    metadata: dict[str, Any]

    def probability(self, vector: list[float]) -> float:
        """P(adverse) for one feature vector (through scikit-learn: ~100 µs; see ``scorer``)."""
        return float(self.classifier.predict_proba(np.asarray([vector], dtype=float))[0, 1])

    def scorer(self) -> Callable[[list[float]], float]:
        """A pure-Python P(adverse) for the hot path: the standardised logistic model's own
        coefficients, about 1 µs per call, equal to ``probability`` to rounding."""
        scaler, logistic = self.classifier[0], self.classifier[-1]
        mean = [float(x) for x in scaler.mean_]
        scale = [float(x) for x in scaler.scale_]
        coef = [float(x) for x in logistic.coef_[0]]
        intercept = float(logistic.intercept_[0])

        def score(vector: list[float]) -> float:
            z = intercept
            for x, m, s, c in zip(vector, mean, scale, coef, strict=True):
                z += c * (x - m) / s
            return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

        return score

    def save(self, path: Path) -> Path:
        """Pickle the model with a JSON sidecar of its metadata (features, version, scores)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            pickle.dump({"format_version": FORMAT_VERSION, "features": list(self.features), "horizon_s": self.horizon_s,
                         "metadata": self.metadata, "classifier": self.classifier}, f)
        meta = {"format_version": FORMAT_VERSION, "features": list(self.features), "horizon_s": self.horizon_s, **self.metadata}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
        return path


def load_model(path: Path | str) -> ToxicityModel:
    """Load a model saved by ``ToxicityModel.save``; refuse one built for other features."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            blob = pickle.load(f)  # noqa: S301 - our own artifact, written by save()
    except FileNotFoundError as e:
        raise ToxicityModelError(f"{path}: no such model file") from e
    except (pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as e:
        raise ToxicityModelError(f"{path}: not a toxicity model ({type(e).__name__}: {e})") from e
    if not isinstance(blob, dict) or blob.get("format_version") != FORMAT_VERSION:
        raise ToxicityModelError(f"{path}: model format {blob.get('format_version') if isinstance(blob, dict) else '?'} "
                                 f"is not {FORMAT_VERSION}; retrain with hftmm train-toxicity")
    if tuple(blob["features"]) != FEATURES:
        raise ToxicityModelError(
            f"{path}: model features {list(blob['features'])} do not match the running features {list(FEATURES)}; "
            "retrain with hftmm train-toxicity",
        )
    return ToxicityModel(blob["classifier"], FEATURES, float(blob["horizon_s"]), dict(blob["metadata"]))


def label_fills(fill_ts: np.ndarray, side: np.ndarray, price: np.ndarray, market_ts: np.ndarray, mid: np.ndarray,
                horizon_s: float) -> np.ndarray:
    """1 where the markout at ``horizon_s`` is negative, 0 where not, -1 where the data ends first."""
    target = fill_ts + int(horizon_s * 1_000_000_000)
    i = np.searchsorted(market_ts, target, side="right") - 1
    later = mid[np.clip(i, 0, None)]
    markout = side * (later - price)
    out = np.where(markout < 0, 1, 0)
    return np.where((i < 0) | (target > market_ts[-1]), -1, out) if market_ts.size else np.full(fill_ts.size, -1)


def train(features: np.ndarray, labels: np.ndarray, horizon_s: float, source: str, seed: int = 0) -> ToxicityModel:
    """Logistic regression (standardised features) with a held-out AUC in the metadata."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(labels) < 20 or len(set(labels.tolist())) < 2:
        raise ToxicityModelError(f"{source}: {len(labels)} labelled fills with classes {sorted(set(labels.tolist()))}: "
                                 "need at least 20 fills of both outcomes")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    cut = int(0.75 * len(order))
    train_idx, test_idx = order[:cut], order[cut:]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(features[train_idx], labels[train_idx])
    auc = math.nan
    if len(set(labels[test_idx].tolist())) == 2:
        auc = float(roc_auc_score(labels[test_idx], model.predict_proba(features[test_idx])[:, 1]))
    model.fit(features, labels)  # the saved model uses every fill
    meta = {"trained_on": source, "fills": int(len(labels)), "toxic_share": float(labels.mean()),
            "holdout_auc": auc, "model": "StandardScaler + LogisticRegression"}
    return ToxicityModel(model, FEATURES, horizon_s, meta)


def train_from_run(run_dir: Path, horizon_s: float = 5.0) -> ToxicityModel:
    """Label a run's recorded fill features with their markouts and fit the model."""
    import pandas as pd

    features_path, market_path = run_dir / "fill_features.parquet", run_dir / "market.parquet"
    for path in (features_path, market_path):
        if not path.is_file():
            raise ToxicityModelError(f"{path}: missing (run a backtest with an hftmm MarketMakingStrategy first)")
    fills = pd.read_parquet(features_path)
    market = pd.read_parquet(market_path)
    missing = [f for f in FEATURES if f not in fills.columns]
    if missing:
        raise ToxicityModelError(f"{features_path}: missing feature column(s) {missing}")
    labels = np.full(len(fills), -1)
    for iid, rows in fills.groupby("instrument_id"):
        m = market[market["instrument_id"] == iid].sort_values("ts_event")
        mid = 0.5 * (m["bid_price"].to_numpy() + m["ask_price"].to_numpy())
        labels[rows.index.to_numpy()] = label_fills(
            rows["ts_event"].to_numpy(), rows["side"].to_numpy(), rows["price"].to_numpy(),
            m["ts_event"].to_numpy(), mid, horizon_s,
        )
    keep = labels >= 0
    return train(fills.loc[keep, list(FEATURES)].to_numpy(dtype=float), labels[keep], horizon_s, str(run_dir))
