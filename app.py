"""Streamlit entry point: page set-up and routing only; the pages live in pages/."""

import streamlit as st

st.set_page_config(page_title="Classroom expressions", page_icon="🙂", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/live.py", title="Live", icon=":material/videocam:"),
        st.Page("pages/analyse.py", title="Analyse a video", icon=":material/movie:"),
        st.Page("pages/reports.py", title="Reports", icon=":material/bar_chart:"),
    ]
)
navigation.run()
