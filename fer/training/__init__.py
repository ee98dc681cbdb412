"""Making the classifier: data, augmentation, the network, training, evaluation and the ONNX export.

Builds on the engine (preprocessing, the classifier it exports for); the app never imports it.
"""
