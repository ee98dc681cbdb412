"""Home: what the app does, the two ways to start (a recording, a live lesson), what it does not do, what it
stores, and how well the model reads."""

import streamlit as st

from fer.app import access, resources, session_view
from fer.app.clock import clock
from fer.app.model_card import PROFILE_METRICS, shipped_model_summary
from fer.app.spreadsheet_safe import safe_table
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
start_recording, start_live = st.columns(2, border=True)
with start_recording:
    st.page_link("pages/analyse.py", label="**Analyse a recording**", icon=":material/movie:")
    st.caption("Upload a lesson's video (MP4, MOV, WebM...). It is analysed in the background while you wait.")
with start_live:
    st.page_link("pages/live.py", label="**Watch a live lesson**", icon=":material/videocam:")
    st.caption(
        "Use this computer's webcam, or share a video call's window: the class's expressions as the lesson runs, "
        "saved when you stop."
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
    "- **The session database holds numbers only, never a face image**: for each face the time, box position, "
    "an anonymous track number, whether its expression could be read (and why not), and the seven class "
    "probabilities when it was; lesson markers you add. The numbers stay until you delete the session (Reports).\n"
    "- **Files that do show faces**: an uploaded recording and, when you ask for one, the annotated video made from "
    "it (faces blurred if you chose so), with its CSV and JSON exports, are kept in the server's data folder for "
    f"**{retention_days():g} days**, then deleted. Live sessions keep no video at all.\n"
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
        safe_table(
            [
                {
                    "session": s.name,
                    "when": session_view.local_time(s.created, session_view.viewer_zone()),
                    "source": s.source,
                    "length": clock(s.duration_s),
                    "faces": s.tracks,
                    "read": "—" if s.summary.get("readable_share") is None else f"{s.summary['readable_share']:.0%}",
                    "most common read": s.dominant or "none read",
                }
                for s in recent
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.page_link("pages/reports.py", label="Open Reports", icon=":material/bar_chart:")
else:
    st.caption("No sessions yet.")

if viewer.is_admin:  # without sign-in the one local user is every session's owner: their own activity
    whose = "Audit log (admins)" if viewer.signed_in else "Activity log"
    with st.expander(f"{whose}: sign-ins, uploads, changes, deletions, downloads and exports"):
        st.dataframe(safe_table(store.audit()), hide_index=True, width="stretch")

st.subheader("Legal note (EU)")
st.markdown(
    "The EU AI Act (Regulation (EU) 2024/1689, Article 5(1)(f)) **prohibits emotion-recognition systems in "
    "education institutions**, except for medical or safety reasons. Do not use this app on students in an "
    "EU school or university unless such an exception applies; check with your data-protection officer."
)

st.subheader("How well the model reads")
for profile, (use, path) in PROFILE_METRICS.items():
    summary = shipped_model_summary(path)
    if summary is None:
        st.info(f"The {profile} profile's metrics were not found (models/{path.name}).")
        continue
    st.markdown(
        f"- **{use}**: on {summary.n:,} test faces it had never seen (FER2013), its reading matched the "
        f"expression people had labelled **{summary.accuracy:.0%}** of the time (guessing: 14 %). "
        f"Expressions it sees rarely, such as disgust, are read less well (average over the seven: "
        f"{summary.macro_f1:.2f} F1)."
    )
st.caption(
    "People labelling these faces agree with the set's labels about 65 % of the time (Goodfellow et al., 2013): "
    "a single face's expression is often ambiguous. Details, limits and how it was measured: models/MODEL_CARD.md."
)
