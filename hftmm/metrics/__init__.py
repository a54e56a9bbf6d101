"""Prometheus metrics of a live node (see docs/monitoring.md). ``registry.py`` is Nautilus-free."""
