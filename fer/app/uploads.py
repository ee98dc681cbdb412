"""Streamlit holds every upload's bytes in memory until the browser removes the file or the session ends: an 800 MB
recording kept the server 800 MB larger after it was stored and its job had ended (measured). Once the upload is
safely on disk, its in-memory copy is dropped here."""

from __future__ import annotations

from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile


def release(uploaded: UploadedFile) -> None:
    """Remove ``uploaded`` from Streamlit's upload store (the page must not read it again: it reruns with a fresh
    uploader)."""
    context = get_script_run_ctx()
    if context is not None:
        context.uploaded_file_mgr.remove_file(context.session_id, uploaded.file_id)
