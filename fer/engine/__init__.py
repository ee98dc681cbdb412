"""The vision engine: frames in, faces with expressions and session numbers out.

Detection, crops, classification, tracking, smoothing, aggregation, annotation and
video I/O, put together by ``pipeline.FrameAnalyzer`` (one frame) and
``analyze.analyze_video`` (a recording) or ``live.LiveProcessor`` (a webcam).
It knows nothing of storage, training or Streamlit.
"""
