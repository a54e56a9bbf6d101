"""Run analytics and the HTML report."""

from hftmm.reports.analytics import ReportError, RunAnalytics, compute_run_analytics
from hftmm.reports.html import build_report

__all__ = ["ReportError", "RunAnalytics", "build_report", "compute_run_analytics"]
