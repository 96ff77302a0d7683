"""The Streamlit KPI dashboard for ops (issue: dashboard)."""
