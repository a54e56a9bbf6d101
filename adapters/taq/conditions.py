"""Which TAQ trades and quotes are usable (market-data-formats.md §1.8): pure, vectorised rules."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adapters.taq.constants import AUCTION_CONDITIONS, ISO_CONDITION, ODD_LOT_CONDITION, OFF_EXCHANGE


def _has_any(conditions: pa.Array, chars: str) -> np.ndarray:
    """True where the condition string contains any of ``chars`` (the field is a set of characters)."""
    if not chars:
        return np.zeros(len(conditions), dtype=bool)
    pattern = "[" + "".join("\\" + c if c in "]\\^-" else c for c in chars) + "]"
    return np.asarray(pc.match_substring_regex(conditions, pattern).to_numpy(zero_copy_only=False), dtype=bool)


def classify_trades(
    conditions: pa.Array,
    corrections: pa.Array,
    exchanges: pa.Array,
    price: np.ndarray,
    size: np.ndarray,
    round_lot: int,
    exclude: str,
    corrections_kept: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Keep/drop decision, drop reason and flags for each trade.

    Returns
    -------
    dict with ``kept`` (bool), ``reason`` (object: "" when kept), ``odd_lot``, ``auction``, ``iso``
    and ``off_exchange`` (bool). Reasons, in order of precedence: ``correction <code>``,
    ``condition <chars>``, ``non-positive price``, ``non-positive size``.
    """
    n = len(conditions)
    reason = np.full(n, "", dtype=object)
    corr = np.asarray(corrections.to_numpy(zero_copy_only=False), dtype=object)
    bad_corr = ~np.isin(corr, list(corrections_kept))
    reason[bad_corr] = np.char.add("correction ", corr[bad_corr].astype(str)).astype(object)
    excluded = _has_any(conditions, exclude) & ~bad_corr
    if excluded.any():
        conds = np.asarray(conditions.to_numpy(zero_copy_only=False), dtype=object)
        reason[excluded] = [
            "condition " + "".join(sorted(set(c) & set(exclude))) for c in conds[excluded]
        ]
    free = reason == ""
    reason[free & (price <= 0)] = "non-positive price"
    free = reason == ""
    reason[free & (size <= 0)] = "non-positive size"
    kept = reason == ""
    return {
        "kept": kept,
        "reason": reason,
        "odd_lot": _has_any(conditions, ODD_LOT_CONDITION) | (size < round_lot),
        "auction": _has_any(conditions, AUCTION_CONDITIONS),
        "iso": _has_any(conditions, ISO_CONDITION),
        "off_exchange": np.asarray(pc.equal(exchanges, OFF_EXCHANGE).to_numpy(zero_copy_only=False), dtype=bool),
    }
