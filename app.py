"""Streamlit entry point: page set-up, the sign-in gate, routing, the teacher's analyses in the sidebar, and a
database that breaks as a message."""

import streamlit as st

from fer.app import access, job_list, resources

st.set_page_config(page_title="Classroom expressions", page_icon="🙂", layout="wide")

PAGES = {"live": ("Live", "videocam"), "analyse": ("Analyse a video", "movie"), "reports": ("Reports", "bar_chart")}

viewer = access.gate()
if viewer is None:  # sign-in configured, nobody signed in: every address shows the welcome, no menu
    welcome = "pages/welcome.py"
    pages = [st.Page(welcome, title="Welcome", default=True)]
    pages += [st.Page(welcome, title="Welcome", url_path=path) for path in PAGES]
    navigation = st.navigation(pages, position="hidden")
else:
    pages = [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)]
    pages += [
        st.Page(f"pages/{path}.py", title=title, icon=f":material/{icon}:") for path, (title, icon) in PAGES.items()
    ]
    navigation = st.navigation(pages)
try:
    if viewer is not None and navigation.url_path != "analyse":  # Analyse lists them in the page itself
        resources.store()  # a database or setting that needs fixing is said in the page, before anything else
        with st.sidebar:
            job_list.show(viewer, key="sidebar")
    navigation.run()
except Exception as error:  # the database breaking while the app runs is a message on any page, not a traceback
    if (problem := resources.database_problem(error)) is None:
        raise
    st.error(problem)
