"""Home: what the app does and does not do, and what it stores."""

import streamlit as st

from fer.labels import CLASSES
from fer.model_card import shipped_model_summary

st.title("Classroom expression analytics")
st.markdown(
    "This app finds the faces in a webcam stream or a lecture recording, classifies each face's "
    f"**observed facial expression** into seven classes ({', '.join(CLASSES)}), follows each face "
    "over time and charts how the class's expressions change during a session."
)
st.warning(
    "**Expressions are not feelings.** A face that looks neutral, sad or happy says little about what a "
    "person feels, thinks or how engaged they are. Read the charts as a rough picture of visible "
    "expressions across a group, never as a judgement of an individual student."
)

st.subheader("Privacy")
st.markdown(
    "- No face images are stored. For each face the app keeps numbers only: time, box position and the "
    "seven class probabilities.\n"
    "- Everything runs on this server; nothing is sent to third-party services.\n"
    "- Exported videos can have every detected face blurred."
)

st.subheader("Legal note (EU)")
st.markdown(
    "The EU AI Act (Regulation (EU) 2024/1689, Article 5(1)(f)) **prohibits emotion-recognition systems in "
    "education institutions**, except for medical or safety reasons. Do not use this app on students in an "
    "EU school or university unless such an exception applies; check with your data-protection officer."
)

st.subheader("The model")
summary = shipped_model_summary()
if summary is None:
    st.info("The shipped model's metrics were not found (models/metrics.json).")
else:
    left, middle, right = st.columns(3)
    left.metric("Test accuracy (FER2013 PublicTest)", f"{summary.accuracy:.1%}")
    middle.metric("Macro-F1", f"{summary.macro_f1:.3f}")
    right.metric("Test images", f"{summary.n:,}")
    st.caption("Details, limits and how it was measured: models/MODEL_CARD.md.")
