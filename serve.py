"""The server: Streamlit running app.py, plus the routes the report's player reads (``fer.app.media_routes``) and
the networks Live's browser mode runs (``fer.app.model_routes``), behind the request guard that refuses what
Streamlit's own checks let through (``fer.app.request_guard``).

Start it with ``streamlit run serve.py`` (``./run.sh`` does); on Streamlit Community Cloud, set it as the main file.
"""

import streamlit as st
from starlette.middleware import Middleware

from fer.app import media_routes, model_routes
from fer.app.request_guard import RequestGuard

app = st.App("app.py", routes=media_routes.routes() + model_routes.routes(), middleware=[Middleware(RequestGuard)])
