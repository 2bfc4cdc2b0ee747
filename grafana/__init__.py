"""Dashboards and alert rules as code for reelmail.

Everything an operator sees in Grafana or is paged by comes from this package, so a
reviewer reads one place and ``make dashboards`` rewrites the committed JSON and YAML.
"""
