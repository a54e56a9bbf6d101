"""Message-bus names of runtime parameter control (kept free of Nautilus)."""

# A strategy serves "<prefix><strategy id>": {"params": {...}, "guard_s": s} -> applied / error.
PARAMS_ENDPOINT_PREFIX = "hftmm.params."
# The risk actor serves this: {"risk": {...risk section...}} -> applied / error.
RISK_PARAMS_ENDPOINT = "hftmm.risk.params"
# Strategies publish {"strategy": id, "error": text} when get_quotes fails during a grace period.
STRATEGY_ERROR_TOPIC = "hftmm.strategy.error"
# Parameter changes, for the risk actor's audit trail.
PARAM_CHANGE_TOPIC = "hftmm.control.change"
# Strategies ask this on start for the parameters in force: {} -> {"params": {...}} when they
# differ from the configuration (restored from the previous node).
CURRENT_PARAMS_ENDPOINT = "hftmm.control.current"
# The cache's general-store key of the parameter version in force (live: written through to Redis,
# so a restarted node or a standby taking over keeps the runtime updates).
ACTIVE_KEY = "hftmm:control:active"
