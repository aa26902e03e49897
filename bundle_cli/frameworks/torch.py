"""torch stages: TorchScript, a torch.export program (.pt2) or a whole saved module, run in eval
mode under no_grad on tensors."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from bundle_cli.frameworks import Framework, Host, StageCall
from bundle_cli.frameworks.extras import as_array, ignoring_files, require

DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "bool")


def load(path: Path, options: dict[str, Any], where: str, host: Host) -> StageCall:
    torch = require("torch", where)
    fmt = options.get("format", "auto")
    if fmt == "exported" or (fmt == "auto" and path.suffix == ".pt2"):
        # torch.export programs fix train/eval mode when exported; they have no eval().
        model = torch.export.load(str(path)).module()
    elif fmt == "torchscript" or (fmt == "auto" and _is_torchscript(path)):
        model = torch.jit.load(str(path), map_location="cpu").eval()
    else:
        model = torch.load(path, map_location="cpu", weights_only=False).eval()
    dtype = getattr(torch, options.get("dtype", "float32"))

    def predict(x: Any) -> Any:
        with torch.no_grad():
            if isinstance(x, tuple):
                return model(*(_tensor(torch, item, dtype) for item in x))
            return model(_tensor(torch, x, dtype))

    return ignoring_files(predict)


def _tensor(torch: Any, x: Any, dtype: Any) -> Any:
    if isinstance(x, (torch.Tensor, dict)):
        return x
    return torch.as_tensor(as_array(x), dtype=dtype)


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives carry their code; `torch.save` archives carry only data."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


FRAMEWORKS = (
    Framework(
        "torch",
        load,
        suffixes=(".pt", ".pth", ".pts", ".ts", ".pt2"),
        options={"dtype": DTYPES, "format": ("auto", "torchscript", "exported", "module")},
        extra="torch",
        distributions=("torch",),
        modules={"torch": "torch"},
    ),
)
