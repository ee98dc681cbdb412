"""The report's opening paragraph, written from the numbers: how long, how many faces, how much could be read,
how the observed expressions moved, the notable moments.

The wording is the app's careful one: observed facial expressions of the group, never feelings or engagement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer.app.clock import clock
from fer.app.moments import GROUP_PHRASES
from fer.app.report import faces_read, group_shares, overall_group_shares, reading_summary
from fer.engine.aggregate import GROUPS

READ_REASONS = {
    "small": "too small",
    "pose": "turned away or looking down",
    "blur": "blurred",
    "uncertain": "too uncertain to read",
}
SHIFT_MIN = 0.10  # a group's share must differ by 10 points between the first and last third to be mentioned
MOMENTS_NAMED = 3
# One face behind most of a group's readings is said: on eye-labelled clips most wrong negative readings came from
# a few faces read wrongly all the time (a talking, frowning reader read angry; models/MODEL_CARD.md)
ONE_FACE_MIN = 0.5  # of the group's readings...
ONE_FACE_GROUP_MIN = 0.10  # ...of a group that is at least this share of all readings


def lesson_summary(
    summary: dict,
    timeline: pd.DataFrame,
    moments: pd.DataFrame,
    source: str = "upload",
    tracks: pd.DataFrame | None = None,
) -> str:
    """A few plain sentences a teacher reads first; with the session's ``tracks``, also when one face is behind most
    of a group's readings."""
    duration_s = float(summary.get("duration_s") or 0.0)
    kind = "live session" if source == "live" else "recording"
    faces = int(summary.get("tracks") or 0)
    pictures = _pictures_sentence(summary)
    if timeline.empty or faces == 0 or timeline["faces"].sum() == 0:
        found = f"No faces were found in this {clock(duration_s)} {kind}, so there are no expressions to report."
        return " ".join(s for s in (found, pictures) if s)
    most = int(timeline["faces"].max())
    sentences = [
        f"This {clock(duration_s)} {kind} showed {_count(faces, 'face')}"
        + (f" (up to {most} at once)." if most < faces else "."),
        pictures,
    ]
    sentences.append(_reading_sentence(summary))
    groups = overall_group_shares(summary)
    if not groups:
        return " ".join(s for s in sentences if s)
    shares = summary["class_shares"]
    ranked = sorted(shares, key=lambda c: -shares[c])
    sentences.append(
        f"Of the face time read, the most common observed expression was {ranked[0]} ({shares[ranked[0]]:.0%}), "
        f"then {ranked[1]} ({shares[ranked[1]]:.0%}); positive expressions {groups['positive']:.0%}, "
        f"negative {groups['negative']:.0%}."
    )
    sentences.append(_one_face_sentence(tracks))
    sentences += _shift_sentences(timeline)
    sentences.append(_moments_sentence(moments))
    return " ".join(s for s in sentences if s)


def _pictures_sentence(summary: dict) -> str:
    """Faces set aside as pictures are said, never dropped silently: a teacher can tell when a real person was."""
    pictures = len(summary.get("static_tracks") or [])
    if not pictures:
        return ""
    were = "face was" if pictures == 1 else "faces were"
    return (
        f"{pictures} more {were} taken for {'a picture' if pictures == 1 else 'pictures'} (never changing, like a "
        "poster or a photo) and left out of every number."
    )


def _one_face_sentence(tracks: pd.DataFrame | None) -> str:
    """Where one face gave most of the negative (or any group's) readings of several faces read: a class's number
    that is one person's, or one face the model reads wrongly throughout, is worth a look before a conclusion."""
    if tracks is None or tracks.empty:
        return ""
    read = tracks[~tracks["static"].astype(bool) & (tracks["readable_frames"] > 0)]
    if len(read) < 3:
        return ""
    frames = read["readable_frames"].to_numpy(float)
    for group in ("negative", "positive", "surprise"):
        columns = [f"share_{name}" for name in GROUPS[group]]
        counts = read[columns].fillna(0.0).sum(axis=1).to_numpy() * frames
        total = counts.sum()
        if total < ONE_FACE_GROUP_MIN * frames.sum():
            continue
        top = int(np.argmax(counts))
        if counts[top] >= ONE_FACE_MIN * total:
            face = int(read["track_id"].iloc[top])
            return (
                f"{counts[top] / total:.0%} of the {group} readings came from one face (#{face}) of the "
                f"{len(read)} read: look at it in the video before reading them as the class's."
            )
    return ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _reading_sentence(summary: dict) -> str:
    share, reasons = reading_summary(summary)
    if share is None:
        return "How much could be read was not assessed for this session (analysed by an older version)."
    if share == 0:
        return f"None of the faces could be read ({reasons_text(reasons)}), so no expression is reported."
    text = f"Expressions could be read on {share:.0%} of the face time"
    if share < 0.995 and reasons:
        text += f"; the rest could not be read: {reasons_text(reasons)}"
    return text + "."


def reasons_text(reasons: dict[str, float]) -> str:
    """Why faces were not read, largest reason first: "too small", or "mostly too small (62% of the unread face
    time), then blurred (30%)": shares of the unread part, said so, not of all face time (beside "read on 85% of
    the face time", "82% of the face time not read" read as if most of it was not read)."""
    if len(reasons) == 1:
        return READ_REASONS[next(iter(reasons))]
    (first, first_part), (second, second_part) = list(reasons.items())[:2]
    return (
        f"mostly {READ_REASONS[first]} ({first_part:.0%} of the unread face time), "
        f"then {READ_REASONS[second]} ({second_part:.0%})"
    )


def _shift_sentences(timeline: pd.DataFrame) -> list[str]:
    """One sentence on the groups whose share moved by 10 points from the first third of the session to the last."""
    read = faces_read(timeline).to_numpy(dtype=float)
    times = timeline["time_s"].to_numpy(dtype=float)
    if read.sum() == 0 or len(times) < 3:
        return []
    first, last = times <= np.quantile(times, 1 / 3), times >= np.quantile(times, 2 / 3)
    if read[first].sum() == 0 or read[last].sum() == 0:
        return []
    shifts = []
    groups = group_shares(timeline)
    for group in GROUPS:
        share = groups[f"share_{group}"].fillna(0.0).to_numpy()
        early = float((share * read)[first].sum() / read[first].sum())
        late = float((share * read)[last].sum() / read[last].sum())
        if abs(late - early) >= SHIFT_MIN:
            direction = "rose" if late > early else "fell"
            shifts.append((abs(late - early), f"{GROUP_PHRASES[group]} {direction} ({early:.0%} → {late:.0%})"))
    if not shifts:
        return ["The mix of observed expressions was about the same in the first and the last third."]
    named = [text for _size, text in sorted(shifts, reverse=True)]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return [f"From the first third of the lesson to the last, {listed}."]


def _moments_sentence(moments: pd.DataFrame) -> str:
    if moments.empty:
        return "There was no sudden, sustained change in the observed expressions."
    named = [f"{row.time} ({row.headline})" for row in moments.head(MOMENTS_NAMED).itertuples()]
    more = len(moments) - MOMENTS_NAMED
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return "Notable moments at " + listed + (f", and {more} more below." if more > 0 else ".")
