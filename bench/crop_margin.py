"""Which crop margin around a CenterFace box gives the classifier faces framed like its training data?

    python bench/crop_margin.py [--data ../shared/fer2013/test] [--margins -0.1 -0.05 0 0.05 0.1 0.2]

Each FER2013 test face is enlarged to 160 px and padded (edge pixels repeated) to
200x200, as a face would sit in a video frame. CenterFace finds it again, the face
is cropped from the frame with each margin (``fer.engine.crops.face_crops``) and
classified. Prints the detection rate and, per margin, the accuracy on the
re-detected faces beside the classifier's accuracy on the original 48x48 images of
the same faces.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer.engine.classifier import EmotionClassifier
from fer.engine.crops import face_crops
from fer.engine.detection import CenterFaceDetector
from fer.training.data import load_image_folder

FACE_PX, FRAME_PX = 160, 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/fer2013/test")
    parser.add_argument("--margins", type=float, nargs="+", default=[-0.1, -0.05, 0.0, 0.05, 0.1, 0.2])
    args = parser.parse_args()

    data = load_image_folder(args.data)
    detector = CenterFaceDetector(threshold=0.3)
    classifier = EmotionClassifier()
    pad = (FRAME_PX - FACE_PX) // 2
    frames, boxes, found = [], [], []
    for image in data.images:
        big = cv2.resize(image, (FACE_PX, FACE_PX), interpolation=cv2.INTER_CUBIC)
        frame = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        faces = detector.detect(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        found.append(len(faces) > 0)
        if len(faces):
            frames.append(frame)
            boxes.append(faces.xyxy[np.argmax(faces.score)])
    found = np.array(found)
    labels = data.labels[found]
    direct = classifier.predict(data.images[found]).argmax(axis=1)
    report = {
        "faces": len(data.images),
        "redetected": round(float(found.mean()), 4),
        "classifier_on_original_48px_of_redetected": round(float((direct == labels).mean()), 4),
    }
    for margin in args.margins:
        crops = [face_crops(frame, box[None], margin)[0] for frame, box in zip(frames, boxes, strict=True)]
        predicted = classifier.predict(crops).argmax(axis=1)
        report[f"margin {margin:+.2f}"] = round(float((predicted == labels).mean()), 4)
        print(json.dumps({f"margin {margin:+.2f}": report[f"margin {margin:+.2f}"]}), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
