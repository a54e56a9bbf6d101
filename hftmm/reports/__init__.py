"""Run analytics and the self-contained HTML report of a market-making backtest run."""

from hftmm.reports.analytics import ReportError, RunAnalytics, RunTables, SectionAnalytics, Stat, compute_run_analytics
from hftmm.reports.html import build_report

__all__ = ["ReportError", "RunAnalytics", "RunTables", "SectionAnalytics", "Stat", "build_report", "compute_run_analytics"]
