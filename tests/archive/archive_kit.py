"""Hand-made archives for the tests: tar streams built with tarfile, wrapped in bundle framing.

The framing is written here from the format's description (a fixed gzip header whose `BN` extra
field holds the CRC-32 of every later byte), independently of the writer, so that hostile tar
streams become archives whose framing is valid and only their members are wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import sys
import tarfile
import zlib
from pathlib import Path

MODEL_PY = '''"""A tiny model: doubles numbers."""


class Model:
    def __init__(self, **kwargs):
        self._data_dir = kwargs.get("data_dir")

    def load(self):
        self.factor = 2

    def predict(self, model_input):
        return {"doubled": [x * self.factor for x in model_input["values"]]}
'''

CONFIG = """model_name: Tiny Doubler
version: 1.0.0
description: doubles numbers
python_version: "3.11"
requirements:
  - numpy>=1.24
"""

# The manifest's "bundle" section that CONFIG gives, written out by hand (not by the packager).
CONFIG_SECTION = {
    "name": "Tiny Doubler",
    "slug": "tiny-doubler",
    "version": "1.0.0",
    "description": "doubles numbers",
    "python_version": "py311",
    "requirements": ["numpy>=1.24"],
    "requirements_file": None,
}

SCAFFOLD: dict[str, str | bytes] = {
    "config.yaml": CONFIG,
    "model/__init__.py": "",
    "model/model.py": MODEL_PY,
    "data/weights.bin": bytes(range(256)) * 64,
    "data/vocab.txt": "\n".join(f"token{i}" for i in range(500)),
    "packages/helpers/__init__.py": "def helper():\n    return 1\n",
    "input.json": '{"values": [1, 2, 3]}\n',
    ".bundleignore": "*.log\nscratch/\n",
    "README.md": "# Tiny doubler\n",
    "empty/": "",
}


def scaffold_files() -> dict[str, bytes]:
    """Every file of SCAFFOLD as bytes, by its path in the bundle (folders left out)."""
    return {
        rel: content.encode() if isinstance(content, str) else content
        for rel, content in SCAFFOLD.items()
        if not rel.endswith("/")
    }


def assert_holds_scaffold(out: Path) -> None:
    """`out` (an extracted archive) has every folder and file of SCAFFOLD, byte for byte."""
    for rel in SCAFFOLD:
        if rel.endswith("/"):
            assert (out / rel).is_dir()
    for rel, data in scaffold_files().items():
        assert (out / rel).read_bytes() == data


# The least a valid bundle holds: tests add the data files they are about.
MINIMAL: dict[str, str | bytes] = {
    "config.yaml": SCAFFOLD["config.yaml"],
    "model/model.py": SCAFFOLD["model/model.py"],
}

# Files a bundle folder often holds that must never reach an archive.
CLUTTER: dict[str, str | bytes] = {
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/config": "[core]\n",
    "model/__pycache__/model.cpython-311.pyc": b"\x00" * 16,
    "packages/helpers/mod.pyc": b"\x00" * 16,
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/site.py": "x = 1\n",
    "env311/pyvenv.cfg": "home = /usr/bin\n",
    "env311/bin/activate": "echo\n",
    ".env": "API_TOKEN=supersecret\n",
    ".env.production": "API_TOKEN=supersecret\n",
    "keys/server.pem": "-----BEGIN PRIVATE KEY-----\n",
    "keys/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    "keys/service.key": "secret\n",
    ".DS_Store": b"\x00\x00\x00\x01Bud1",
    ".pytest_cache/v/cache/lastfailed": "{}\n",
    ".mypy_cache/3.11/x.json": "{}\n",
    ".ipynb_checkpoints/nb-checkpoint.ipynb": "{}\n",
    "dist/old-1.0.tar.gz": b"\x1f\x8b old archive",
    "train.log": "epoch 1\n",
    "scratch/tmp.txt": "notes\n",
}

GOLDEN_MEMBERS = [
    ".bundle-manifest.json",
    ".bundleignore",
    "README.md",
    "config.yaml",
    "data",
    "data/vocab.txt",
    "data/weights.bin",
    "empty",
    "input.json",
    "keys",
    "model",
    "model/__init__.py",
    "model/model.py",
    "packages",
    "packages/helpers",
    "packages/helpers/__init__.py",
]


HEADER_PREFIX = bytes.fromhex("1f8b0804 00000000 00ff 0c00 424e 0800 01000000")


def frame(tar_bytes: bytes) -> bytes:
    """Wrap a tar stream into the bundle archive framing, with every checksum right."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = compressor.compress(tar_bytes) + compressor.flush()
    body += struct.pack("<II", zlib.crc32(tar_bytes), len(tar_bytes) & 0xFFFFFFFF)
    return HEADER_PREFIX + struct.pack("<I", zlib.crc32(body)) + body


def manifest_for(
    files: dict[str, bytes], dirs: list[str] = (), executable: set[str] = frozenset()
) -> bytes:  # type: ignore[assignment]
    """A manifest in the format the writer produces, listing `files` with their real digests."""
    records = [
        {
            "path": p,
            "size": len(d),
            "sha256": hashlib.sha256(d).hexdigest(),
            "executable": p in executable,
        }
        for p, d in files.items()
    ]
    doc = {
        "format": "bundle-archive",
        "format_version": 1,
        "tool": {"name": "bundle", "version": "0.1.0"},
        "spec_version": None,
        "bundle": dict(CONFIG_SECTION),
        "config_sha256": hashlib.sha256(files.get("config.yaml", b"")).hexdigest(),
        "total_size": sum(len(d) for d in files.values()),
        "file_count": len(records),
        "directories": list(dirs),
        "files": records,
    }
    return json.dumps(doc).encode()


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A tar stream of (TarInfo, data) pairs, written by tarfile."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def member(
    name: str,
    data: bytes | None = b"",
    kind: bytes = tarfile.REGTYPE,
    mode: int = 0o644,
    **attrs: object,
) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.mode = kind, mode
    for key, value in attrs.items():
        setattr(info, key, value)
    with_data = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.XGLTYPE, tarfile.XHDTYPE)
    return info, (data if kind in with_data else None)


def manifest_member(
    files: dict[str, bytes], dirs: list[str] = ()
) -> tuple[tarfile.TarInfo, bytes | None]:  # type: ignore[assignment]
    return member(".bundle-manifest.json", manifest_for(files, dirs))


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def snapshot(root: Path) -> set[str]:
    """Every path under root (to prove that nothing appeared)."""
    return {
        os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs
    }


def tree_listing(root: Path) -> list[str]:
    """Every path under root, relative, sorted (folders included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def bundle_script() -> str:
    """The installed `bundle` console script next to the running interpreter."""
    return str(Path(sys.executable).parent / "bundle")


def bundle_env(home: Path) -> dict[str, str]:
    """An environment for a real `bundle` process: no BUNDLE_* from outside, a temp HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BUNDLE_") and k != "SOURCE_DATE_EPOCH"
    }
    return env | {"HOME": str(home), "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
