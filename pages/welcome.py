"""Welcome: what the app is, and the sign-in button; nothing of any session is shown before sign-in."""

import streamlit as st

from fer.app import resources

resources.use_app_navigation()
st.title("Classroom expression analytics")
st.markdown(
    "Charts of the **observed facial expressions** of a class during a live lesson or in a lecture recording. "
    "Sign in to see your sessions; each teacher sees only their own."
)
if st.button("Sign in", type="primary"):
    st.login()
st.caption(
    "The EU AI Act prohibits emotion recognition in education institutions except for medical or safety "
    "reasons: see the README before using this app in a school."
)
