"""Home: what the app does and does not do, and what it stores."""

import streamlit as st

from fer.app import access, resources
from fer.app.model_card import shipped_model_summary
from fer.labels import CLASSES
from fer.sessions.retention import retention_days

resources.use_app_navigation()
viewer = access.current()
store = resources.store()  # first: a database or setting that needs fixing is said before anything else
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
st.info(
    "**Only faces that can be read are read.** A face too small, turned away, looking down, blurred, or read "
    "with too little certainty is counted as present but gets no expression, never a guess. Each report says "
    "on how much of the face time expressions could be read, and why not the rest."
)

st.subheader("Privacy: what is stored, and for how long")
st.markdown(
    "- No face images are stored. For each face the app keeps numbers only: time, box position, an "
    "anonymous track number, whether its expression could be read (and why not), and the seven class "
    "probabilities when it was, in the session database.\n"
    f"- Uploaded recordings and the annotated videos and files made from them are deleted after "
    f"**{retention_days():g} days**; the numbers stay until you delete the session (Reports).\n"
    "- Everything runs on this server; nothing is sent to third-party services.\n"
    "- Exported videos can have every detected face blurred."
)

if not access.sign_in_configured():
    st.caption(
        "Sign-in is not configured, so this app answers only browsers on this machine, and every session "
        "here is yours. To share it with colleagues, configure sign-in (README, 'Sign-in')."
    )
st.subheader("Recent sessions")
recent = store.list(limit=5, owner=viewer.scope)
if recent:
    st.dataframe(
        [
            {
                "session": s.name,
                "when": f"{s.created:%d %b %Y %H:%M}",
                "source": s.source,
                "minutes": round(s.duration_s / 60, 1),
                "faces": s.tracks,
                "read": "—" if s.summary.get("readable_share") is None else f"{s.summary['readable_share']:.0%}",
                "most common read": s.dominant or "none read",
            }
            for s in recent
        ],
        hide_index=True,
        width="stretch",
    )
    st.page_link("pages/reports.py", label="Open Reports", icon=":material/bar_chart:")
else:
    st.caption("No sessions yet.")
st.page_link("pages/analyse.py", label="Analyse a recording", icon=":material/movie:")

if viewer.is_admin:
    with st.expander("Audit log (admins): sign-ins, deletions, downloads and exports"):
        st.dataframe(store.audit(), hide_index=True, width="stretch")

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
