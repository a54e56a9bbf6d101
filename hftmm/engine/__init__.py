"""Engine assembly: turn an hftmm configuration into Nautilus backtest runs."""
