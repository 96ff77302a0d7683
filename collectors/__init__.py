"""SNMP and application collectors exporting to Prometheus (issue: collectors)."""
