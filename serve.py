"""The server: Streamlit running app.py, plus the routes the report's player reads (``fer.app.media_routes``).

Start it with ``streamlit run serve.py`` (``./run.sh`` does); on Streamlit Community Cloud, set it as the main file.
"""

import streamlit as st

from fer.app.media_routes import routes

app = st.App("app.py", routes=routes())
