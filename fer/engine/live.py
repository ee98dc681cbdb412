"""The Live page's frame worker: webcam frames in, annotated frames and live statistics out.

It runs the same stages as video analysis (``FrameAnalyzer``) and needs no
Streamlit, so pytest and ``bench/live.py`` drive it directly. The WebRTC
thread calls ``process_newest``; the page reads ``stats()`` and ``snapshot()``
from its own thread. Shared state sits behind one lock, so nothing inside the
callback touches Streamlit. Only the newest of the frames waiting is analysed:
slow frames are dropped, not queued, so latency cannot grow.

A stream that ends without the page seeing it (the tab closed, the network or
the camera gone) must not lose the session: given a store, the processor
saves the session itself once no frame has arrived for ``idle_save_s``, and
frames arriving after that start a new session.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import numpy as np
import pandas as pd

from fer.engine.aggregate import SHARE_COLUMNS, SessionAggregator, long_shares
from fer.engine.annotate import FaceAnnotator, blur_faces
from fer.engine.classifier import EmotionClassifier
from fer.engine.detection import FaceDetector
from fer.engine.detections import Detections
from fer.engine.observations import ObservedBatch
from fer.engine.outputs import DetectionsCsv
from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer, FrameResult
from fer.labels import CLASSES

TREND_S = 60  # the rolling trend shows the last minute
# "Expressions now" pools the last seconds: one frame's reading, sampled once a second beside a video drawn at the
# frame rate, disagreed with the boxes on screen (a face read in that frame, grey in most others)
RECENT_S = 5
IDLE_SAVE_S = 10.0  # no frame for this long: the stream is gone, save what was seen
EARLY_S = 1.0  # browser mode: a batch faster than the first may place frames this far after now
REANCHOR_S = 5.0  # browser mode: a browser clock further off than this is set on the session's clock again


class SessionSink(Protocol):
    """Where a finished live session goes (``fer.sessions.store.SessionStore``); the engine knows only this."""

    def save(
        self,
        *,
        name: str,
        source: str,
        summary: dict,
        timeline: pd.DataFrame,
        tracks_table: pd.DataFrame,
        face_rows: Iterable[pd.DataFrame] = (),
        owner: str = ...,
    ) -> int: ...


@dataclass(frozen=True)
class LiveStats:
    faces: int  # in the newest processed frame
    read_share: float | None  # of the faces present in the last RECENT_S seconds, the share read (None: no face)
    shares: dict[str, float]  # of the faces read in the last RECENT_S seconds, the share showing each expression
    trend: pd.DataFrame  # time_s (seconds ago, negative), expression, share: the last TREND_S seconds
    processed_fps: float
    dropped_frames: int
    seconds: float  # since the session started
    paused: bool
    streaming: bool  # frames came in the last idle_save_s and the session is not saved yet


class LiveProcessor:
    """One live session: ``process_newest(frames)`` per WebRTC batch; ``save()`` when it ends.

    ``session_name`` is what a saved session is called and ``owner`` whose it is; the page keeps them current.
    """

    def __init__(
        self,
        classifier: EmotionClassifier,
        settings: AnalysisSettings | None = None,
        detector: FaceDetector | None = None,
        store: SessionSink | None = None,
        idle_save_s: float = IDLE_SAVE_S,
        rows_dir: Path | None = None,
    ) -> None:
        """``rows_dir``: where per-face rows wait until the session is saved (the app's data folder, so they are
        under its retention and never in a shared temp folder); the system temp folder if None."""
        self.settings = settings or self.default_settings()
        self.analyzer = FrameAnalyzer(classifier, self.settings, detector)
        self.model_version = classifier.version
        self.store = store
        self.session_name = "Live session"
        self.owner: str | None = None  # the store's default owner unless the page sets one
        self.idle_save_s = idle_save_s
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None
        self._closed = threading.Event()
        self.paused = False
        # per-face rows wait on disk until the session is saved: memory stays flat however long it runs
        if rows_dir is not None:
            rows_dir.mkdir(parents=True, exist_ok=True)
        self._rows_file = tempfile.NamedTemporaryFile("w+", suffix=".csv", newline="", dir=rows_dir)  # noqa: SIM115
        self.reset()

    @staticmethod
    def default_settings() -> AnalysisSettings:
        """640x480 leaves time to detect every frame, in full; frames are analysed as they come (no recording's
        rate)."""
        return AnalysisSettings(rate=None, detect_every=1, full_detect_every_s=None)

    def reset(self) -> None:
        """Start the statistics (and the session to be saved) afresh; tracks restart at 1."""
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        self.analyzer.reset()
        self.aggregator = SessionAggregator(self.settings.bin_s, sample_interval_s=1 / 15)
        self._rows_file.seek(0)
        self._rows_file.truncate()
        self._rows = DetectionsCsv(self._rows_file)
        self._started = self._last_frame = time.monotonic()
        self._frames = 0
        self._dropped = 0
        self._saved_id: int | None = None
        self._frame_times: deque[float] = deque(maxlen=30)  # session seconds of the last frames analysed
        self._last_time = -np.inf
        self._browser_offset: float | None = None  # browser mode: session seconds minus the browser's clock
        self._latest_faces = Detections()
        self._latest_image: np.ndarray | None = None
        self._latest_blur_boxes = np.empty((0, 4), np.float32)

    def process_newest(self, frames: Sequence[av.VideoFrame]) -> av.VideoFrame:
        """Analyse the newest frame of those waiting (the rest are dropped) and return it annotated."""
        newest = frames[-1]
        image = newest.to_ndarray(format="bgr24")
        annotated = self.process(image, dropped=len(frames) - 1)
        out = av.VideoFrame.from_ndarray(annotated, format="bgr24")
        out.pts = newest.pts
        if newest.time_base is not None:
            out.time_base = newest.time_base
        return out

    def process(self, image: np.ndarray, dropped: int = 0) -> np.ndarray:
        """Analyse one BGR frame now; returns it annotated (unchanged while paused)."""
        with self._lock:
            if self._saved_id is not None:  # saved after the stream went quiet: this is a new session
                self._reset()
            self._last_frame = time.monotonic()
            self._dropped += dropped
            self._watch_for_idle()
            if self.paused:
                return image
            result = self.analyzer.process(image, time.monotonic() - self._started)
            self._record(result, image)
        return FaceAnnotator().annotate(image, result.faces)

    def process_observed(self, batch: ObservedBatch) -> None:
        """A batch of frames the teacher's browser analysed (Live's browser mode; checked by ``parse_batch``).

        Frames keep the spacing of the browser's clock, set on the session's clock when the first batch arrives (its
        newest frame: now). Later batches arrive with their own delay, so a frame may land up to ``EARLY_S`` after
        now; one later than that, or at or before the frame analysed last (sent again), is skipped. A browser clock
        more than ``REANCHOR_S`` off (a reloaded page whose clock was set meanwhile, a hostile client) is set again."""
        with self._lock:
            if self._saved_id is not None:
                self._reset()
            self._last_frame = time.monotonic()
            self._watch_for_idle()
            if self.paused or not batch.frames:
                return
            elapsed = time.monotonic() - self._started
            newest = batch.frames[-1].t
            if self._browser_offset is None or abs(newest + self._browser_offset - elapsed) > REANCHOR_S:
                self._browser_offset = elapsed - newest
            for frame in batch.frames:
                time_s = frame.t + self._browser_offset
                if self._last_time < time_s <= elapsed + EARLY_S:
                    self._record(self.analyzer.process_observed(frame, time_s), None)

    def _record(self, result: FrameResult, image: np.ndarray | None) -> None:
        """One analysed frame into the statistics, the rows to be saved and the newest frame (under the lock)."""
        self.aggregator.add(result.faces, result.time_s, result.quality)
        self._rows.write(self._frames, result.time_s, result.faces)
        self._frames += 1
        self._last_time = result.time_s
        self._frame_times.append(result.time_s)
        self._latest_faces = result.faces
        self._latest_image = image
        self._latest_blur_boxes = result.detected.xyxy

    def stats(self) -> LiveStats:
        with self._lock:
            faces = len(self._latest_faces)
            seconds = time.monotonic() - self._started
            timeline = self.aggregator.timeline(self.analyzer.static.static_ids(), since_s=seconds - TREND_S)
            times = list(self._frame_times)
            fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
            dropped, paused = self._dropped, self.paused
            quiet = time.monotonic() - self._last_frame >= self.idle_save_s
            streaming = self._frames > 0 and self._saved_id is None and not quiet
        trend = long_shares(timeline[timeline["time_s"] >= seconds - TREND_S])
        trend["time_s"] -= np.floor(seconds)  # seconds ago
        recent = timeline[timeline["time_s"] >= seconds - RECENT_S]
        read = recent["faces_readable"].to_numpy(float)
        counts = (np.nan_to_num(recent[SHARE_COLUMNS].to_numpy(float)) * read[:, None]).sum(axis=0)
        present = float(recent["faces"].sum())
        return LiveStats(
            faces=faces,
            read_share=read.sum() / present if present else None,
            shares=dict(zip(CLASSES, (counts / max(read.sum(), 1)).round(3).tolist(), strict=True)),
            trend=trend,
            processed_fps=round(fps, 1),
            dropped_frames=dropped,
            seconds=seconds,
            paused=paused,
            streaming=streaming,
        )

    def snapshot(self, blur: bool = False) -> np.ndarray | None:
        """The newest analysed frame, annotated (and with every face blurred if asked); None before any."""
        with self._lock:
            if self._latest_image is None:
                return None
            image, faces, boxes = self._latest_image.copy(), self._latest_faces, self._latest_blur_boxes
        if blur:
            blur_faces(image, np.vstack([faces.xyxy, boxes]))
        return FaceAnnotator().annotate(image, faces)

    def save(self) -> int | None:
        """Store the session so far (numbers only, never frames), once; None when nothing was analysed."""
        if self.store is None:
            raise RuntimeError("this LiveProcessor was made without a store")
        with self._lock:
            if self._saved_id is not None:
                return self._saved_id
            if self._frames == 0:
                return None
            timeline, tracks, numbers = self.aggregator.finish(self.analyzer.static.static_ids())
            seconds = time.monotonic() - self._started
            summary = {
                "source": "webcam",
                "duration_s": round(seconds, 3),
                "fps": round(self._frames / max(seconds, 1e-9), 3),
                "frames_analysed": self._frames,
                "dropped_frames": self._dropped,
                **numbers,
                "settings": self.settings.to_dict(),
                "model_version": self.model_version,
            }
            self._rows_file.flush()
            face_rows = pd.read_csv(self._rows_file.name, chunksize=50_000)
            owner = {} if self.owner is None else {"owner": self.owner}
            self._saved_id = self.store.save(
                name=self.session_name,
                source="live",
                summary=summary,
                timeline=timeline,
                tracks_table=tracks,
                face_rows=face_rows,
                **owner,
            )
            self._rows_file.seek(0)  # the rows are in the database now: none wait on disk
            self._rows_file.truncate()
            return self._saved_id

    def save_if_idle(self) -> int | None:
        """Save when frames were analysed and none has arrived for ``idle_save_s``; the id, or None."""
        with self._lock:
            idle = time.monotonic() - self._last_frame >= self.idle_save_s
            due = idle and self._frames > 0 and self._saved_id is None
        return self.save() if due else None

    def _watch_for_idle(self) -> None:
        """Start the idle watch (under the lock) unless it runs; it ends once nothing is left unsaved."""
        if self.store is not None and (self._watchdog is None or not self._watchdog.is_alive()):
            self._watchdog = threading.Thread(target=self._watch, name="live-idle-save", daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        while not self._closed.wait(min(1.0, self.idle_save_s / 2)):
            self.save_if_idle()
            with self._lock:
                if self._saved_id is not None or self._frames == 0:
                    return

    def close(self) -> None:
        """Stop the idle watch and delete the temporary per-face rows (unsaved numbers are dropped)."""
        self._closed.set()
        if self._watchdog is not None:
            self._watchdog.join()
        self._rows_file.close()
