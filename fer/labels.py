"""The seven FER2013 expression classes, in the one order used everywhere.

The order is FER2013's own label index (0 = angry … 6 = neutral), so the
competition CSV's ``emotion`` column maps straight onto it and every
probability array in the project has its columns in this order.
"""

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(CLASSES)
CLASS_INDEX: dict[str, int] = {name: i for i, name in enumerate(CLASSES)}
