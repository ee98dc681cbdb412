"""The annotated video made on request from a recording and its stored faces."""

from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from fer.engine.analyze import analyze_video
from fer.engine.annotate import CLASS_COLORS
from fer.engine.pipeline import AnalysisSettings
from fer.engine.render import BLUR_BOXES_CSV, HOLD_S, FaceTimeline, read_blur_boxes, render_annotated
from fer.labels import CLASSES
from tests.conftest import write_face_clip
from tests.engine.sound_clips import read_sound, write_clip_with_sound


def _rows(*faces: tuple[float, int, float, str | None]) -> pd.DataFrame:
    """Face rows (time, track, x, label or None for not read), 40 px boxes at y 50."""
    records = []
    for time_s, track, x, label in faces:
        probs = {f"p_{c}": (np.nan if label is None else float(c == label)) for c in CLASSES}
        records.append({"time_s": time_s, "track_id": track, "x": x, "y": 50.0, "w": 40.0, "h": 40.0,
                        "readable": 0 if label is None else 1, **probs})  # fmt: skip
    return pd.DataFrame(records)


def test_faces_move_between_analysed_frames_and_are_gone_after_the_hold() -> None:
    timeline = FaceTimeline(_rows((0.0, 1, 100.0, "happy"), (0.0, 2, 300.0, None), (0.5, 1, 120.0, "happy")))
    middle = timeline.at(0.25)
    assert middle.track_id.tolist() == [1, 2]
    np.testing.assert_allclose(middle.xyxy[0], [110, 50, 150, 90])  # halfway to its next place
    np.testing.assert_allclose(middle.xyxy[1], [300, 50, 340, 90])  # not in the next frame: stays where it was
    assert middle.labels == ["happy", ""]  # the face not read has no expression
    assert len(timeline.at(-0.1)) == 0
    assert len(timeline.at(0.5 + HOLD_S + 0.01)) == 0  # nobody seen since: nobody drawn


def test_a_render_has_every_frame_the_sound_and_the_boxes_in_their_colour(tmp_path: Path) -> None:
    clip = write_clip_with_sound(tmp_path / "lesson.mp4", seconds=2.0, fps=10.0, size=(1280, 720))  # 3 px lines
    rows = _rows(*[(t / 4, 1, 100.0, "happy") for t in range(9)])
    target = tmp_path / "annotated.mp4"
    seen: list[float] = []
    render_annotated(clip, FaceTimeline(rows), target, on_progress=lambda t, _d: seen.append(t))
    with av.open(str(target)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(frames) == 20 and len(seen) == 20  # every frame of the recording, not the analysed ones only
    assert read_sound(target) is not None
    edge = frames[5][70, 100].astype(int)  # the box's left edge, halfway down
    assert np.abs(edge - np.array(CLASS_COLORS["happy"])).max() < 40


def test_a_blurred_render_hides_every_face_the_analysis_saw(tmp_path: Path, classifier) -> None:
    clip = write_face_clip(tmp_path / "face.mp4", frames=20, fps=10.0)
    settings = AnalysisSettings(blur=True, profile="fast")
    analyze_video(clip, tmp_path / "out", settings, write_video=False, classifier=classifier)
    boxes = read_blur_boxes(tmp_path / "out" / BLUR_BOXES_CSV)
    assert boxes is not None and len(boxes.times) > 5  # kept because blurring was asked for
    detections = pd.read_csv(tmp_path / "out" / "detections.csv")
    plain, blurred = tmp_path / "plain.mp4", tmp_path / "blurred.mp4"
    render_annotated(clip, FaceTimeline(detections.iloc[:0]), plain)  # the recording as it is, nothing drawn
    render_annotated(clip, FaceTimeline(detections), blurred, blur=True, blur_boxes=boxes)
    with av.open(str(plain)) as a, av.open(str(blurred)) as b:
        first = [f.to_ndarray(format="gray") for f in a.decode(video=0)][10]
        second = [f.to_ndarray(format="gray") for f in b.decode(video=0)][10]
    x, y, w, h = detections.loc[detections["frame"].sub(10).abs().idxmin(), ["x", "y", "w", "h"]]
    face = (slice(int(y + h * 0.3), int(y + h * 0.7)), slice(int(x + w * 0.3), int(x + w * 0.7)))
    assert second[face].std() < 0.5 * first[face].std()  # the face's detail is gone


@pytest.mark.parametrize("blur", [False, True])
def test_the_analysis_keeps_detection_boxes_only_when_faces_are_to_be_blurred(
    face_clip: Path, tmp_path: Path, classifier, blur: bool
) -> None:
    settings = AnalysisSettings(blur=blur, profile="fast")
    result = analyze_video(face_clip, tmp_path / "out", settings, write_video=False, classifier=classifier)
    assert (tmp_path / "out" / BLUR_BOXES_CSV).is_file() == blur
    assert (BLUR_BOXES_CSV in result.outputs) == blur
