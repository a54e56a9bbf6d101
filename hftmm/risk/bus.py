"""Message-bus names shared by the risk actor and the strategies (kept free of Nautilus)."""

CHECK_ENDPOINT = "hftmm.risk.check"
RESUME_ENDPOINT = "hftmm.risk.resume"
HALT_ENDPOINT = "hftmm.risk.halt"
MODE_TOPIC = "hftmm.risk.mode"
VENUE_TOPIC = "hftmm.venue.connection"
