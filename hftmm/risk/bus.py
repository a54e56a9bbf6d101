"""Message-bus names shared by the risk actor and the strategies (kept free of Nautilus)."""

CHECK_ENDPOINT = "hftmm.risk.check"
RESUME_ENDPOINT = "hftmm.risk.resume"
HALT_ENDPOINT = "hftmm.risk.halt"
MODE_TOPIC = "hftmm.risk.mode"
# Strategies ask this on start for the mode in force: {} -> {"action": RiskAction}.
MODE_ENDPOINT = "hftmm.risk.current_mode"
# The cache's general-store key of the mode in force (live: written through to Redis, so a
# restarted node or a standby taking over stays HALTED until an operator resumes).
MODE_KEY = "hftmm:risk:mode"
# Who halts on losing the failover lease: that halt belongs to the demoted node, not to its successor.
FAILOVER_PLUGIN = "failover"
VENUE_TOPIC = "hftmm.venue.connection"
