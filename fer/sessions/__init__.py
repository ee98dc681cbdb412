"""Stored sessions: the database, its migrations, retention and the upload-to-report workflow.

Builds on the engine; knows nothing of Streamlit.
"""
