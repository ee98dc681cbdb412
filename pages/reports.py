"""Reports: a stored session read in a minute (summary, expressions over time, the video at any moment, downloads),
or several sessions compared on one lesson-time axis."""

import pandas as pd
import streamlit as st

from fer.app import access, clock, report, resources, session_view
from fer.app.markdown import plain
from fer.app.spreadsheet_safe import safe_table
from fer.sessions.migrations import MAX_MARKER_LABEL
from fer.sessions.store import MAX_NAME, StoredSession

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
# the Analyse page links here with ?session=ID; ?session=A&session=B opens a comparison
asked = [int(v) for v in st.query_params.get_all("session") if v.isdigit() and int(v) in labels][:4]
chosen = st.multiselect(
    "Sessions (pick two or more to compare)",
    options=list(labels),
    default=asked or [sessions[0].id],
    format_func=labels.get,
    max_selections=4,
)
if st.query_params.get_all("session") != [str(session_id) for session_id in chosen]:
    st.query_params["session"] = [str(session_id) for session_id in chosen]  # what is open can be bookmarked
if not chosen:
    st.stop()
view = st.segmented_control(
    "Expressions",
    list(session_view.VIEWS),
    default="Seven expressions",
    help="Grouped: positive (happy), neutral, surprise, negative (angry, disgust, fear, sad).",
)
grouped = session_view.VIEWS.get(view or "Seven expressions", False)


def single(stored: StoredSession) -> None:
    st.markdown(plain(session_view.session_when(stored)))
    st.markdown(plain(session_view.summary_paragraph(stored)))
    session_view.headline(stored)
    markers = store.markers(stored.id)
    clicked = session_view.main_charts(stored, grouped, markers, key="single")
    if clicked is not None and clicked != st.session_state.get(f"clicked_{stored.id}"):  # a new click, not a rerun
        session_view.request_seek(stored, clicked)
    st.session_state[f"clicked_{stored.id}"] = clicked
    _timeline, _bars, found = session_view.session_tables(stored.id, session_view.cache_key(stored))
    video, side = st.columns(2, gap="large")
    with side:
        st.markdown("**Notable moments**")
        if found.empty:
            st.caption("No sudden, sustained change in the observed expressions (20 percentage points or more).")
        playable = session_view.can_play(stored)
        for index, moment in enumerate(found.itertuples()):
            go, text = st.columns([1, 3], vertical_alignment="center")
            if not playable:
                go.markdown(f"**{moment.time}**")
            elif go.button(f"▶ {moment.time}", key=f"moment{index}", help="Play the video from here"):
                session_view.request_seek(stored, moment.time_s)
            text.markdown(plain(moment.description))
        if playable:
            st.caption("Click a bar of the chart, or a moment, to play the video from there.")
    with video:
        session_view.report_video(stored, viewer)
    with st.expander("Lesson markers"):
        marker_editor(stored, markers)
    if st.toggle("Show each face over time", help="One row per anonymous face"):
        session_view.face_strips(stored, markers, key="single")
    st.markdown("**Downloads**")
    session_view.downloads(stored, viewer, lambda: session_view.printable_html(stored, grouped, markers))
    session_view.annotated_video_request(stored, viewer)
    with st.expander("Rename or delete this session"):
        manage(stored)


def marker_editor(stored: StoredSession, markers: pd.DataFrame) -> None:
    """Markers a teacher adds ("quiz" at 12:30): every chart and the printable report show them."""
    for row in markers.itertuples():
        label, remove = st.columns([5, 1], vertical_alignment="center")
        label.markdown(f"{clock.clock(row.time_s)} · {plain(row.label)}")
        if remove.button("Remove", key=f"unmark{row.id}"):
            store.delete_marker(stored.id, int(row.id), owner=viewer.scope)
            store.record(viewer.owner, "remove_marker", stored.id, f"{clock.clock(row.time_s)} {row.label}")
            st.rerun()
    with st.form("add_marker", clear_on_submit=True, border=False):
        when, what, add = st.columns([1, 3, 1], vertical_alignment="bottom")
        at = when.text_input("Time (m:ss)", placeholder="12:30")
        label = what.text_input("Label", placeholder="quiz", max_chars=MAX_MARKER_LABEL)
        if add.form_submit_button("Add marker"):
            try:
                store.add_marker(stored.id, clock.parse_clock(at), label, owner=viewer.scope)
            except ValueError as error:
                st.error(str(error).capitalize())
            else:
                store.record(viewer.owner, "add_marker", stored.id, f"{at} {label}")
                st.rerun()


def manage(stored: StoredSession) -> None:
    new_name = st.text_input("Name", value=stored.name, key="rename", max_chars=MAX_NAME)
    if st.button("Rename") and new_name.strip() and new_name != stored.name:
        store.rename(stored.id, new_name, owner=viewer.scope)
        store.record(viewer.owner, "rename", stored.id, f"{stored.name} -> {new_name}")
        st.rerun()
    if st.session_state.get("confirm_delete") != stored.id:
        if st.button("Delete this session", type="secondary"):
            st.session_state["confirm_delete"] = stored.id
            st.rerun()
        return
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


def compare(picked: list[StoredSession]) -> None:
    """Sessions one above the other on one time axis (lesson time, or each stretched to 0-100 %), with their
    headline numbers in one table."""
    rows = []
    for stored in picked:
        read_share, _ = report.reading_summary(stored.summary)
        groups = report.overall_group_shares(stored.summary)
        rows.append(
            {
                "Session": stored.name,
                "Length": clock.clock(stored.duration_s),
                "Faces": stored.tracks,
                "Read": None if read_share is None else read_share,
                "Most common": stored.dominant or "none read",
                **{group.capitalize(): groups.get(group) for group in report.GROUPS},
            }
        )
    table = pd.DataFrame(rows)
    shares = ["Read", *(g.capitalize() for g in report.GROUPS)]
    table[shares] = (table[shares].astype(float) * 100).round()
    st.dataframe(
        safe_table(table),
        hide_index=True,
        width="stretch",
        column_config={name: st.column_config.NumberColumn(format="%d %%") for name in shares},
    )
    axis = st.segmented_control(
        "Time axis",
        ["Lesson time", "Share of the lesson"],
        default="Lesson time",
        help="Lesson time: every session on the longest one's clock. Share of the lesson: each stretched to 0-100 %.",
    )
    longest = max(stored.duration_s for stored in picked)
    for stored in picked:
        st.markdown(f"**{plain(stored.name)}** · {clock.clock(stored.duration_s)}")
        session_view.compared_chart(stored, grouped, longest, percent=axis == "Share of the lesson")


if len(chosen) == 1:
    single(store.get(chosen[0], viewer.scope))
else:
    compare([store.get(session_id, viewer.scope) for session_id in chosen])

st.caption(session_view.WORDING_NOTE)
