"""The player's links and what its overlay route sends: signed per session and viewer, expiring, compact."""

from pathlib import Path

import numpy as np
import pandas as pd

from fer.app import media_routes
from fer.app.media_routes import ALL_OWNERS, EXPIRED, GONE, NOT_YOURS, Grant, kept_recording, resolve, sign, verify
from fer.engine.render import FaceTimeline
from fer.labels import CLASSES
from tests.synthetic import scripted_session


def test_a_link_carries_its_session_and_scope_until_it_expires_and_cannot_be_altered() -> None:
    token = sign(Grant(7, "alice@school.org", expires=2_000_000_000))
    assert verify(token, now=1_900_000_000) == Grant(7, "alice@school.org", 2_000_000_000)
    assert verify(token, now=2_000_000_001) is None  # expired
    mac = token.split(".")[1]
    other = sign(Grant(8, "alice@school.org", expires=2_000_000_000)).split(".")[0]
    assert verify(f"{other}.{mac}", now=1_900_000_000) is None  # another session under this signature
    assert verify("not-a-token", now=0) is None and verify("a.b", now=0) is None
    assert verify(media_routes.grant_for(3, None)).scope == ALL_OWNERS  # an admin's link reaches every owner's


def test_the_overlay_holds_each_analysed_frames_faces_in_time_order() -> None:
    def row(time_s: float, track: int, x: float, label: str | None) -> dict:
        probs = {f"p_{c}": (np.nan if label is None else (0.8 if c == label else 0.2 / 6)) for c in CLASSES}
        return {"time_s": time_s, "track_id": track, "x": x, "y": 10.0, "w": 30.4, "h": 30.0,
                "readable": 0 if label is None else 1, **probs}  # fmt: skip

    rows = pd.DataFrame([row(0.25, 2, 50.0, None), row(0.0, 1, 10.0, "happy"), row(0.25, 1, 12.0, "sad")])
    data = FaceTimeline(rows).flat()
    assert data["times"] == [0.0, 0.25] and data["starts"] == [0, 1, 3]
    faces = np.array(data["rows"]).reshape(-1, 7)
    happy, sad = CLASSES.index("happy"), CLASSES.index("sad")
    assert faces.tolist() == [[1, 10, 10, 30, 30, happy, 80], [1, 12, 10, 30, 30, sad, 80], [2, 50, 10, 30, 30, -1, 0]]


def test_a_sessions_recording_is_found_while_its_upload_is_kept(tmp_path: Path) -> None:
    from fer.sessions.store import SessionStore

    store = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    session_id = scripted_session(store, faces=1, seconds=10, source_sha256="ab" * 32)
    stored = store.get(session_id)
    assert kept_recording(stored, tmp_path) is None  # no upload (gone after the retention period)
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / f"{'ab' * 32}.mp4").write_bytes(b"video")
    (tmp_path / "uploads" / f".{'ab' * 32}.partial").write_bytes(b"half")
    assert kept_recording(stored, tmp_path) == tmp_path / "uploads" / f"{'ab' * 32}.mp4"


def test_a_file_link_reaches_its_file_only_for_its_account_and_only_while_the_session_exists(
    tmp_path: Path, monkeypatch
) -> None:
    from fer.app import access
    from fer.sessions.store import SessionStore

    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    media_routes._store.cache_clear()
    store = media_routes._store()
    artifacts = tmp_path / "sessions" / "a"
    artifacts.mkdir(parents=True)
    (artifacts / "timeline.csv").write_text("time_s\n")
    session_id = scripted_session(store, faces=1, seconds=10, owner="alice@school.org", artifacts_dir=artifacts)
    link = media_routes.grant_for(session_id, "alice@school.org", "timeline.csv", actor="alice@school.org")
    assert resolve(link, {}).path == artifacts / "timeline.csv"  # without sign-in: the grant alone
    assert resolve(link, {}, file=media_routes.RECORDING).why == EXPIRED  # a file link is not a recording link
    bob = media_routes.grant_for(session_id, "bob@school.org", "timeline.csv", actor="bob@school.org")
    assert resolve(bob, {}).why == GONE  # not in Bob's scope
    monkeypatch.setattr(access, "sign_in_configured", lambda: True)
    monkeypatch.setattr(access, "cookie_account", lambda cookies, _store: cookies.get("who"))
    assert resolve(link, {"who": "alice@school.org"}).path == artifacts / "timeline.csv"
    assert resolve(link, {"who": "mallory@school.org"}).why == NOT_YOURS  # a link passed on
    assert resolve(link, {}).why == NOT_YOURS  # signed out
    SessionStore().delete(session_id)
    assert resolve(link, {"who": "alice@school.org"}).why == GONE
    media_routes._store.cache_clear()
