"""Cost of building a session timeline late in a long session (what the live panel does every second).

    python bench/aggregate.py [--minutes 60] [--faces 30]

Fills a ``SessionAggregator`` with a generated session (every face seen twice a
second) and times ``timeline()`` for the whole session and for the last minute
(the live trend), medians of 5.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import median_seconds

from fer.engine.aggregate import SessionAggregator
from fer.engine.detections import Detections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--faces", type=int, default=30)
    args = parser.parse_args()
    n = args.faces
    probs = np.random.default_rng(0).dirichlet(np.ones(7), size=n).astype(np.float32)
    faces = Detections(xyxy=np.zeros((n, 4)), score=np.ones(n), track_id=np.arange(1, n + 1), probs=probs)
    aggregator = SessionAggregator(bin_s=1.0)
    end_s = args.minutes * 60
    for time_s in np.arange(0, end_s, 0.5):
        aggregator.add(faces, float(time_s))
    whole = median_seconds(aggregator.timeline, 5, warmup=1)
    last_minute = median_seconds(lambda: aggregator.timeline(since_s=end_s - 60), 5, warmup=1)
    result = {"minutes": args.minutes, "faces": n, "whole_ms": whole * 1000, "last_minute_ms": last_minute * 1000}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
