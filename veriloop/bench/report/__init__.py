"""Bench reports: one `BenchReport` per run, rendered as a rich table, JSON, markdown or HTML."""

from veriloop.bench.report.model import BenchReport, build_report, load_report

__all__ = ["BenchReport", "build_report", "load_report"]
