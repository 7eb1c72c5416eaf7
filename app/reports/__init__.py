"""Reports (业务管理): the weekly monitoring per office, region and company, kept as snapshots.

reports → everything else, read-only (STYLE.md 3.2): figures are aggregated in SQL
(queries.py, through app.core.buckets), assembled into DTOs (services.py, dto.py), drawn by
charts.py from those DTOs, exported by exports.py, and stored as snapshots by jobs.py.
"""
