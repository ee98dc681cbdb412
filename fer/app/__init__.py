"""What the Streamlit pages share: cached resources, report data and Altair charts.

The top layer: it may use sessions and the engine, and nothing in ``fer`` imports it.
"""
