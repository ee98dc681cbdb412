"""Reports: one session's expressions over time, notable moments, several sessions side by side."""

import streamlit as st

from fer.app import access, report, resources, session_view
from fer.app.markdown import plain
from fer.sessions.store import MAX_NAME

resources.use_app_navigation()
viewer = access.current()
st.title("Reports")
store = resources.store()
sessions = store.list(owner=viewer.scope)
if not sessions:
    st.info("No sessions yet. Analyse a recording or run a live session first.")
    st.stop()

show_owner = viewer.is_admin and viewer.signed_in  # an admin sees everyone's sessions: say whose
labels = {
    s.id: f"{s.name} · {s.created:%d %b %Y %H:%M} · {s.source}" + (f" · {s.owner}" if show_owner else "")
    for s in sessions
}
chosen = st.multiselect(
    "Sessions (pick two or more to compare)",
    options=list(labels),
    default=[sessions[0].id],
    format_func=labels.get,
    max_selections=4,
)
if not chosen:
    st.stop()
smoothing = st.slider("Smoothing (seconds)", min_value=1, max_value=60, value=5, help="moving average of the shares")

if len(chosen) == 1:
    stored = store.get(chosen[0], viewer.scope)
    session_view.headline(stored)
    session_view.session_charts(stored, smoothing_bins=smoothing, key="single")
    timeline, _tracks, _cells = session_view.session_tables(stored.id, session_view.cache_key(stored))
    moments = report.notable_moments(timeline)
    st.markdown("**Notable moments**")
    if moments.empty:
        st.caption("No sudden change in the share of happy faces (±25 % over 10 s).")
    else:
        st.dataframe(moments, hide_index=True, width="stretch")
    st.download_button(
        "Download the timeline (CSV)",
        timeline.to_csv(index=False),
        file_name=f"timeline_{stored.id}.csv",
        on_click=access.audited,
        args=("export", stored.id, "timeline CSV"),
    )
    with st.expander("Rename or delete this session"):
        new_name = st.text_input("Name", value=stored.name, key="rename", max_chars=MAX_NAME)
        if st.button("Rename") and new_name.strip() and new_name != stored.name:
            store.rename(stored.id, new_name, owner=viewer.scope)
            st.rerun()
        if st.session_state.get("confirm_delete") != stored.id:
            if st.button("Delete this session", type="secondary"):
                st.session_state["confirm_delete"] = stored.id
                st.rerun()
        else:
            st.warning(
                "Delete this session for good? Its numbers, and at once its annotated video, exports and "
                "upload (unless another session was made from the same file), cannot be brought back."
            )
            confirm, cancel = st.columns(2)
            if confirm.button("Yes, delete it", type="primary"):
                session_view.delete_session(stored, viewer)
                st.session_state.pop("confirm_delete", None)
                st.rerun()
            if cancel.button("Keep it"):
                st.session_state.pop("confirm_delete", None)
                st.rerun()
else:
    columns = st.columns(len(chosen))
    for column, session_id in zip(columns, chosen, strict=True):
        with column:
            stored = store.get(session_id, viewer.scope)
            st.subheader(plain(stored.name))
            session_view.headline(stored)
            session_view.session_charts(stored, smoothing_bins=smoothing, key=f"compare{session_id}")

st.caption(
    "Charts show observed facial expressions of the group, not feelings, engagement or any judgement of a "
    "person. Faces are anonymous tracks; pictures and posters that never change are left out."
)
