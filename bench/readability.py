"""Measure what makes a face readable, and write the thresholds the engine uses.

    python bench/readability.py [--data ../shared/fer2013] [--write]

On FER2013 PublicTest (``test/``), with the shipped classifier:

- **size**: each face shrunk to N px and enlarged back to 48 (as a face N px wide in a
  video reaches the classifier); the smallest N whose accuracy stays within 3 points of
  full resolution is ``min_face_px``;
- **blur**: Gaussian blur of growing sigma; **contrast**: intensities scaled down (a dark
  room). Each threshold sits halfway (geometrically) between the median signal at the
  last level within 3 points of the original and at the first level beyond;
- **calibration**: one temperature fitted by negative log-likelihood on the even-indexed
  faces, expected calibration error (15 bins) and a reliability diagram before and after
  on the odd-indexed ones; ``uncertain_below`` is the largest threshold (in steps of 0.05) whose
  faces below it are read right less than one time in three on that held-out half;
- **pose**: yaw and pitch from CenterFace's landmarks on training faces (enlarged to
  160 px in a 200 px frame); a face turned further than 99 % of them is unreadable;
- **roll** (a head tilted sideways, the eye line off level): each face rotated in its frame by
  ±N degrees, as an upright crop of a tilted head reaches the classifier, with both serving
  profiles; ``max_abs_roll_deg`` sits halfway between the last angle within 3 points of upright
  and the first beyond, for the profile that drops first.

The training data's signals (median, quartiles) are the reference the input monitor
compares sessions with. ``--write`` stores ``models/readability.json`` and
``models/calibration.json`` and the PNG curves for the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from fer.engine.classifier import EmotionClassifier, calibrated
from fer.engine.detection import CenterFaceDetector
from fer.engine.readability import image_signals, pose_angles
from fer.hashing import file_sha256
from fer.labels import CLASSES
from fer.paths import CALIBRATION_PATH, DEFAULT_MODEL_PATH, MODELS_DIR, READABILITY_PATH
from fer.training.calibration import fit_temperature, reliability
from fer.training.data import load_image_folder

SIZES = [8, 12, 16, 20, 24, 28, 32, 36, 40, 48]
SIGMAS = [0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
GAINS = [1.0, 0.5, 0.3, 0.2, 0.12, 0.08, 0.05, 0.03]
ROLLS = [0, 5, 10, 15, 20, 25, 30, 40]
WITHIN = 0.03  # accuracy may fall this much before a face counts as unreadable
POSE_SAMPLE = 3000


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == labels).mean())


def resized(images: np.ndarray, side: int) -> np.ndarray:
    small = [cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA) for image in images]
    return np.stack([cv2.resize(image, (48, 48), interpolation=cv2.INTER_LINEAR) for image in small])


def blurred(images: np.ndarray, sigma: float) -> np.ndarray:
    return images if sigma == 0 else np.stack([cv2.GaussianBlur(image, (0, 0), sigma) for image in images])


def darkened(images: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(np.round(images.astype(np.float32) * gain), 0, 255).astype(np.uint8)


def size_curve(classifier: EmotionClassifier, images: np.ndarray, labels: np.ndarray) -> tuple[list[dict], int]:
    rows = [{"px": side, "accuracy": accuracy(classifier.predict(resized(images, side)), labels)} for side in SIZES]
    full = rows[-1]["accuracy"]
    threshold = SIZES[-1]
    for row in reversed(rows):
        if row["accuracy"] < full - WITHIN:
            break
        threshold = row["px"]
    return rows, threshold


def degradation_curve(classifier, images, labels, levels, degrade, signal_column) -> tuple[list[dict], float]:
    """Accuracy and median signal per level; the threshold between the last good and first bad level."""
    rows = []
    for level in levels:
        degraded = degrade(images, level)
        signal = image_signals(degraded)[:, signal_column]
        rows.append(
            {
                "level": level,
                "accuracy": accuracy(classifier.predict(degraded), labels),
                "median_signal": float(np.median(signal)),
            }
        )
    base = rows[0]["accuracy"]
    good = rows[0]
    for row in rows[1:]:
        if row["accuracy"] < base - WITHIN:
            return rows, float(np.sqrt(good["median_signal"] * row["median_signal"]))
        good = row
    return rows, float(good["median_signal"] / 2)


def rotated(images: np.ndarray, degrees: float) -> np.ndarray:
    turn = cv2.getRotationMatrix2D((23.5, 23.5), degrees, 1.0)
    return np.stack([cv2.warpAffine(im, turn, (48, 48), borderMode=cv2.BORDER_REPLICATE) for im in images])


def roll_curve(classifier: EmotionClassifier, images: np.ndarray, labels: np.ndarray) -> tuple[list[dict], float]:
    """Accuracy per roll angle (both directions averaged); the threshold halfway between the last angle within
    ``WITHIN`` of upright and the first beyond (the largest angle measured where none is beyond)."""
    rows = []
    for angle in ROLLS:
        turns = (angle, -angle) if angle else (0,)
        rows.append(
            {
                "deg": angle,
                "accuracy": float(np.mean([accuracy(classifier.predict(rotated(images, t)), labels) for t in turns])),
            }
        )
    good = rows[0]
    for row in rows[1:]:
        if row["accuracy"] < rows[0]["accuracy"] - WITHIN:
            return rows, (good["deg"] + row["deg"]) / 2
        good = row
    return rows, float(good["deg"])


def uncertainty_table(probabilities: np.ndarray, labels: np.ndarray) -> list[dict]:
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    rows = []
    for threshold in np.arange(0.20, 0.61, 0.05):
        kept = confidence >= threshold
        rows.append(
            {
                "threshold": round(float(threshold), 2),
                "kept": float(kept.mean()),
                "accuracy_kept": float(correct[kept].mean()) if kept.any() else float("nan"),
                "accuracy_dropped": float(correct[~kept].mean()) if (~kept).any() else float("nan"),
            }
        )
    return rows


def training_pose(images: np.ndarray) -> np.ndarray:
    """(M, 5, 2) landmarks of training faces re-detected at 160 px in a 200 px frame (faces not found skipped)."""
    detector = CenterFaceDetector(threshold=0.3)
    found = []
    for image in images:
        big = cv2.resize(image, (160, 160), interpolation=cv2.INTER_CUBIC)
        frame = cv2.cvtColor(cv2.copyMakeBorder(big, 20, 20, 20, 20, cv2.BORDER_REPLICATE), cv2.COLOR_GRAY2BGR)
        faces = detector.detect(frame)
        if len(faces):
            found.append(faces.landmarks[np.argmax(faces.score)])
    return np.array(found)


def frontal_geometry(landmarks: np.ndarray) -> tuple[float, float]:
    """Median nose height (eye line 0, mouth line 1) and eye distance / eye-to-mouth height."""
    eyes = (landmarks[:, 0] + landmarks[:, 1]) / 2
    mouth = (landmarks[:, 3] + landmarks[:, 4]) / 2
    height = mouth[:, 1] - eyes[:, 1]
    nose_height = (landmarks[:, 2, 1] - eyes[:, 1]) / height
    eye_distance = np.linalg.norm(landmarks[:, 1] - landmarks[:, 0], axis=1)
    return float(np.median(nose_height)), float(np.median(eye_distance / height))


def quartiles(values: np.ndarray) -> dict[str, float]:
    q1, median, q3 = np.nanpercentile(values, [25, 50, 75])
    return {"q1": round(float(q1), 2), "median": round(float(median), 2), "q3": round(float(q3), 2)}


def plot_curve(path: Path, x, y, xlabel: str, title: str, threshold=None, full=None) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(x, np.array(y) * 100, marker="o")
    if full is not None:
        ax.axhline((full - WITHIN) * 100, color="grey", linestyle="--", label="3 points below the original")
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", linestyle=":", label=f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy on PublicTest (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reliability(path: Path, before: list[dict], after: list[dict], ece_before: float, ece_after: float) -> None:
    fig, ax = plt.subplots(figsize=(4.2, 4), dpi=120)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for rows, name, ece in ((before, "raw", ece_before), (after, "temperature-scaled", ece_after)):
        ax.plot(
            [r["confidence"] for r in rows], [r["accuracy"] for r in rows], marker="o", label=f"{name} (ECE {ece:.3f})"
        )
    ax.set_xlabel("top probability")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability on held-out PublicTest half")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/fer2013")
    parser.add_argument("--write", action="store_true", help="write models/readability.json, calibration.json, PNGs")
    args = parser.parse_args()

    test = load_image_folder(args.data / "test")
    train = load_image_folder(args.data / "train")
    raw = EmotionClassifier(temperature=1.0)
    images, labels = test.images, test.labels

    sizes, min_face_px = size_curve(raw, images, labels)
    blur_rows, min_sharpness = degradation_curve(raw, images, labels, SIGMAS, blurred, 2)
    contrast_rows, min_contrast = degradation_curve(raw, images, labels, GAINS, darkened, 1)
    rolls = {
        profile: roll_curve(EmotionClassifier(profile=profile), images, labels) for profile in ("fast", "accurate")
    }
    max_abs_roll = min(threshold for _rows, threshold in rolls.values())

    probabilities = raw.predict(images)
    fit, held_out = np.arange(len(labels)) % 2 == 0, np.arange(len(labels)) % 2 == 1
    temperature = fit_temperature(probabilities[fit], labels[fit])
    ece_before, diagram_before = reliability(probabilities[held_out], labels[held_out])
    scaled = calibrated(probabilities[held_out], temperature)
    ece_after, diagram_after = reliability(scaled, labels[held_out])
    uncertainty = uncertainty_table(scaled, labels[held_out])
    wrong_mostly = [row["threshold"] for row in uncertainty if row["accuracy_dropped"] < 1 / 3]
    uncertain_below = max(wrong_mostly, default=0.0)

    rng = np.random.default_rng(0)
    sample = train.images[rng.choice(len(train.images), size=min(POSE_SAMPLE, len(train.images)), replace=False)]
    landmarks = training_pose(sample)
    nose_height, eye_over_height = frontal_geometry(landmarks)
    yaw, pitch = pose_angles(landmarks, nose_height, eye_over_height)
    train_signals = image_signals(sample)

    report = {
        "faces": len(labels),
        "size": sizes,
        "min_face_px": min_face_px,
        "blur": blur_rows,
        "min_sharpness": round(min_sharpness, 2),
        "contrast": contrast_rows,
        "min_contrast": round(min_contrast, 2),
        "roll": {profile: rows for profile, (rows, _threshold) in rolls.items()},
        "max_abs_roll_deg": max_abs_roll,
        "temperature": round(temperature, 4),
        "ece_before": round(ece_before, 4),
        "ece_after": round(ece_after, 4),
        "uncertainty": uncertainty,
        "uncertain_below": uncertain_below,
        "pose_redetected": f"{len(landmarks)} of {len(sample)}",
        "yaw_abs_p99": round(float(np.percentile(np.abs(yaw), 99)), 1),
        "pitch_p0.5_p99.5": [round(float(v), 1) for v in np.percentile(pitch, [0.5, 99.5])],
        "train_below_sharpness": round(float((train_signals[:, 2] < min_sharpness).mean()), 4),
        "train_below_contrast": round(float((train_signals[:, 1] < min_contrast).mean()), 4),
    }
    print(json.dumps(report, indent=1))
    if not args.write:
        return
    train_counts = np.bincount(train.labels, minlength=len(CLASSES))
    readability = {
        "thresholds": {
            "min_face_px": float(min_face_px),
            "max_abs_yaw_deg": report["yaw_abs_p99"],
            "max_abs_roll_deg": max_abs_roll,
            "min_pitch_deg": report["pitch_p0.5_p99.5"][0],
            "max_pitch_deg": report["pitch_p0.5_p99.5"][1],
            "min_sharpness": report["min_sharpness"],
            "min_contrast": report["min_contrast"],
            "uncertain_below": uncertain_below,
            "frontal_nose_height": round(nose_height, 4),
            "frontal_eye_over_height": round(eye_over_height, 4),
        },
        "reference": {
            "face_px": {"q1": 48.0, "median": 48.0, "q3": 48.0},
            "yaw_deg": quartiles(yaw),
            "pitch_deg": quartiles(pitch),
            "brightness": quartiles(train_signals[:, 0]),
            "contrast": quartiles(train_signals[:, 1]),
            "sharpness": quartiles(train_signals[:, 2]),
            "class_shares": dict(zip(CLASSES, (train_counts / train_counts.sum()).round(4).tolist(), strict=True)),
        },
        "measured": report,
        "command": "python bench/readability.py --write",
    }
    READABILITY_PATH.write_text(json.dumps(readability, indent=1) + "\n")
    # Rewrites the fast profile's fit; the accurate profile's (bench/calibrate_accurate.py) stays.
    accurate = json.loads(CALIBRATION_PATH.read_text()).get("accurate") if CALIBRATION_PATH.is_file() else None
    calibration = {
        "model": DEFAULT_MODEL_PATH.name,
        "model_sha256": file_sha256(DEFAULT_MODEL_PATH),
        "temperature": round(temperature, 4),
        "fitted_on": "even-indexed PublicTest faces (negative log-likelihood)",
        "ece_before": round(ece_before, 4),
        "ece_after": round(ece_after, 4),
        "evaluated_on": "odd-indexed PublicTest faces, 15 bins",
    }
    CALIBRATION_PATH.write_text(json.dumps(calibration | ({"accurate": accurate} if accurate else {}), indent=1) + "\n")
    plot_curve(
        MODELS_DIR / "readability_size.png",
        SIZES,
        [r["accuracy"] for r in sizes],
        "face width (px)",
        "Accuracy against face size",
        min_face_px,
        sizes[-1]["accuracy"],
    )
    plot_curve(
        MODELS_DIR / "readability_blur.png",
        SIGMAS,
        [r["accuracy"] for r in blur_rows],
        "Gaussian blur sigma (px at 48x48)",
        "Accuracy against blur",
        None,
        blur_rows[0]["accuracy"],
    )
    plot_curve(
        MODELS_DIR / "readability_contrast.png",
        GAINS,
        [r["accuracy"] for r in contrast_rows],
        "intensity gain (1 = original)",
        "Accuracy against darkening",
        None,
        contrast_rows[0]["accuracy"],
    )
    plot_reliability(MODELS_DIR / "reliability.png", diagram_before, diagram_after, ece_before, ece_after)


if __name__ == "__main__":
    main()
