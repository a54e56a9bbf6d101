"""Live trading: the TradingNode assembly (``node.py``), its run folder, and ``hftmm demo-live``."""
