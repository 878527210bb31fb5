"""The baseline a user would write by hand: OpenCV decode + MediaPipe Pose, one process.

    python bench/bare_loop.py VIDEO

Reads every frame with ``cv2.VideoCapture``, converts BGR to RGB and runs the
legacy ``mediapipe.solutions.pose.Pose`` (full model, the defaults a tutorial
uses) on the full-size frame. Prints one JSON line: frames, the loop's time and
the time from the start of this script (imports included).
"""

from __future__ import annotations

import json
import sys
import time

T_START = time.perf_counter()


def main(path: str) -> dict:
    import cv2
    import mediapipe as mp

    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise SystemExit(f"cannot open {path}")
    n_frames = n_found = 0
    with mp.solutions.pose.Pose(model_complexity=1) as pose:
        t_loop = time.perf_counter()
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            result = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            n_frames += 1
            n_found += result.pose_landmarks is not None
        loop_s = time.perf_counter() - t_loop
    cap.release()
    return {
        "frames": n_frames,
        "found": n_found,
        "loop_s": loop_s,
        "script_s": time.perf_counter() - T_START,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
