"""Generated sessions for report tests: scripted expressions on N faces, through the real aggregator into a store.

A lesson in three acts, so the report has something to find: mostly neutral, then a happy middle third, then a
sad last third. ``read_share`` of the face readings are unreadable ("small"), like faces at the back of a room.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fer.engine.aggregate import SessionAggregator
from fer.engine.detections import Detections
from fer.engine.outputs import DETECTION_COLUMNS
from fer.labels import CLASSES, NUM_CLASSES
from fer.sessions.store import SessionStore

ACTS = (  # (class, probability) per third of the lesson; the rest of each reading is neutral
    {"happy": 0.15},
    {"happy": 0.75},
    {"sad": 0.6, "happy": 0.05},
)


def scripted_rows(faces: int, seconds: int, read_share: float = 0.9, seed: int = 0) -> tuple[list, pd.DataFrame]:
    """Per second, (time_s, Detections) of every face and the detections.csv rows for them."""
    rng = np.random.default_rng(seed)
    frames, rows = [], []
    boxes = np.column_stack([np.arange(faces) * 50, np.zeros(faces), np.arange(faces) * 50 + 40, np.full(faces, 40)])
    for second in range(seconds):
        act = ACTS[min(2, 3 * second // max(seconds, 1))]
        weights = np.array([act.get(c, 0.0) for c in CLASSES])
        weights[CLASSES.index("neutral")] = 1 - weights.sum()
        labels = rng.choice(NUM_CLASSES, size=faces, p=weights)
        probs = np.full((faces, NUM_CLASSES), 0.05, np.float32)
        probs[np.arange(faces), labels] = 0.7
        unreadable = np.where(rng.random(faces) < read_share, 0, 1).astype(np.int8)
        probs[unreadable > 0] = np.nan
        detections = Detections(boxes, np.full(faces, 0.9), np.arange(1, faces + 1), probs, unreadable=unreadable)
        frames.append((float(second), detections))
        for track, (box, p, bad) in enumerate(zip(boxes, probs, unreadable, strict=True), start=1):
            label = "" if bad else CLASSES[int(np.argmax(p))]
            reason = "small" if bad else ""
            rows.append(
                [second, float(second), track, *box[:2], 40.0, 40.0, 0.9, *p.tolist(), label, int(not bad), reason]
            )
    return frames, pd.DataFrame(rows, columns=DETECTION_COLUMNS)


def scripted_session(
    store: SessionStore,
    faces: int = 12,
    seconds: int = 600,
    read_share: float = 0.9,
    name: str = "Scripted lesson",
    **save: object,
) -> int:
    """Store a scripted session (one reading per face per second) and return its id."""
    frames, face_rows = scripted_rows(faces, seconds, read_share)
    aggregator = SessionAggregator(bin_s=1.0, sample_interval_s=1.0)
    for time_s, detections in frames:
        aggregator.add(detections, time_s)
    timeline, tracks, numbers = aggregator.finish(static=set())
    summary = {
        "duration_s": float(seconds),
        "fps": 1.0,
        "frames_analysed": seconds,
        "model_version": "scripted",
        "settings": {"bin_s": 1.0},
        **numbers,
    }
    return store.save(
        name=name,
        source=str(save.pop("source", "upload")),
        summary=summary,
        timeline=timeline,
        tracks_table=tracks,
        face_rows=[face_rows],
        **save,
    )


def stored_with_video(
    store: SessionStore, data_folder: Path, folder: str = "sessions/scripted", **session: object
) -> int:
    """A scripted session whose annotated video (a plain clip as long as the session, 2 fps) is kept, as an
    analysed upload's is."""
    from fer.engine.outputs import ANNOTATED_VIDEO
    from tests.conftest import write_face_clip

    seconds = int(session.get("seconds", 600))
    (data_folder / folder).mkdir(parents=True, exist_ok=True)
    write_face_clip(data_folder / folder / ANNOTATED_VIDEO, frames=2 * seconds, fps=2.0, face=False)
    for name in ("detections.csv", "timeline.csv", "summary.json"):
        (data_folder / folder / name).write_text("numbers\n")
    return scripted_session(store, artifacts_dir=folder, source_name="lesson.mp4", **session)
