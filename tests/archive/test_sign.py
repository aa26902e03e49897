"""`bundle sign` / `verify --signature` against OpenSSF model-signing itself, both ways."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bundle_cli.archive.extract import unpack
from bundle_cli.archive.shards import SHARD_SIZE

MODEL_SIGNING = str(Path(sys.executable).parent / "model_signing")


def keypair(folder: Path, password: bytes | None = None, name: str = "key") -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def ms(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The real `model_signing` command line."""
    return subprocess.run(
        [MODEL_SIGNING, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def ms_verify(model: Path, sig: Path, pub: Path) -> None:
    """model-signing's API, as its CLI calls it (faster than a process per check)."""
    from model_signing import verifying

    verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, sig)


@pytest.fixture
def signed(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Callable
) -> tuple[Path, Path, Path, Path]:
    """(archive, its signature by `bundle sign`, private key, public key)."""
    archive = pack(scaffold())
    private, public = keypair(tmp_path)
    result = run_bundle("sign", str(archive), "--key", str(private))
    assert result.returncode == 0, result.stderr
    return archive, archive.with_name(archive.name + ".sig"), private, public


def test_model_signing_verifies_what_bundle_signs(
    signed: tuple[Path, Path, Path, Path], tmp_path: Path
) -> None:
    archive, sig, _, public = signed
    folder = unpack(archive, tmp_path / "unpacked").path
    result = ms("verify", "key", folder, "--signature", sig, "--public_key", public)
    assert result.returncode == 0, result.stdout + result.stderr
    (folder / "model" / "model.py").write_text("tampered = True\n")
    with pytest.raises(ValueError, match=r"model/model\.py"):
        ms_verify(folder, sig, public)


def test_bundle_verifies_its_own_signature_and_refuses_other_keys(
    signed: tuple[Path, Path, Path, Path], tmp_path: Path, run_bundle: Callable
) -> None:
    archive, sig, _, public = signed
    ok = run_bundle("verify", str(archive), "--signature", str(sig), "--public-key", str(public))
    assert ok.returncode == 0, ok.stderr
    _, other = keypair(tmp_path, name="other")
    bad = run_bundle("verify", str(archive), "--signature", str(sig), "--public-key", str(other))
    assert bad.returncode == 4
    assert "another key" in bad.stderr and "Traceback" not in bad.stderr
    doc = json.loads(sig.read_text())
    doc["dsseEnvelope"]["signatures"][0]["sig"] = doc["dsseEnvelope"]["signatures"][1:] or "AAAA"
    sig.write_text(json.dumps(doc))
    forged = run_bundle(
        "verify", str(archive), "--signature", str(sig), "--public-key", str(public)
    )
    assert forged.returncode == 4 and "Traceback" not in forged.stderr, forged.stderr


def test_a_model_signing_signature_of_the_unpacked_folder_verifies_the_archive(
    signed: tuple[Path, Path, Path, Path], tmp_path: Path, run_bundle: Callable
) -> None:
    archive, _, private, public = signed
    folder = unpack(archive, tmp_path / "unpacked").path
    sig = tmp_path / "model.sig"
    made = ms("sign", "key", folder, "--private_key", private, "--signature", sig)
    assert made.returncode == 0, made.stdout + made.stderr
    args = ("verify", str(archive), "--signature", str(sig), "--public-key", str(public))
    ok = run_bundle(*args)
    assert ok.returncode == 0, ok.stderr
    # the same folder, changed: the signature now describes something else than the archive
    (folder / "config.yaml").write_text("model_name: other\n")
    (folder / "notes.txt").write_text("added\n")
    (folder / "input.json").unlink()
    assert ms("sign", "key", folder, "--private_key", private, "--signature", sig).returncode == 0
    bad = run_bundle(*args, "--json")
    assert bad.returncode == 4
    assert "signature: config.yaml: sha256 differs" in bad.stderr
    assert "missing file: notes.txt" in bad.stderr  # signed, not in the archive
    assert "extra file: input.json" in bad.stderr  # in the archive, not signed
    assert json.loads(bad.stdout)["signature"] == 3


def test_a_folder_is_signed_as_it_would_be_packed(
    scaffold: Callable[..., Path], tmp_path: Path, run_bundle: Callable
) -> None:
    folder = scaffold()  # with .git, __pycache__, .venv, keys, dist/ ... that package leaves out
    private, public = keypair(tmp_path)
    sig = tmp_path / "folder.sig"
    result = run_bundle("sign", str(folder), "--key", str(private), "-o", str(sig), "--json")
    assert result.returncode == 0, result.stderr
    ms_verify(folder, sig, public)
    payload = json.loads(
        __import__("base64").b64decode(json.loads(sig.read_text())["dsseEnvelope"]["payload"])
    )
    names = {r["name"] for r in payload["predicate"]["resources"]}
    assert not any("__pycache__" in n or n.startswith((".venv", "keys", ".git")) for n in names)
    assert "config.yaml" in names
    again = run_bundle("verify", str(folder), "--signature", str(sig), "--public-key", str(public))
    assert again.returncode == 0, again.stderr
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "new.bin").write_bytes(b"new")
    changed = run_bundle(
        "verify", str(folder), "--signature", str(sig), "--public-key", str(public)
    )
    assert changed.returncode == 4 and "extra file: data/new.bin" in changed.stderr


def test_large_files_are_signed_by_shards_that_model_signing_checks(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Callable
) -> None:
    big = bytes(range(256)) * ((SHARD_SIZE + 4096) // 256)
    archive = pack(scaffold(clutter=False, extra={"data/weights.bin": big}))
    private, public = keypair(tmp_path)
    assert run_bundle("sign", str(archive), "--key", str(private)).returncode == 0
    sig = archive.with_name(archive.name + ".sig")
    payload = json.loads(
        __import__("base64").b64decode(json.loads(sig.read_text())["dsseEnvelope"]["payload"])
    )
    assert payload["predicate"]["serialization"]["shard_size"] == SHARD_SIZE
    assert f"data/weights.bin:{SHARD_SIZE}:{len(big)}" in {
        r["name"] for r in payload["predicate"]["resources"]
    }
    folder = unpack(archive, tmp_path / "unpacked").path
    ms_verify(folder, sig, public)
    ok = run_bundle("verify", str(archive), "--signature", str(sig), "--public-key", str(public))
    assert ok.returncode == 0, ok.stderr
    # model-signing's default cuts no shards: whole-file digests, which the manifest lacks for
    # the big file, so verify hashes the archive's files again to compare
    whole = tmp_path / "whole.sig"
    made = ms("sign", "key", folder, "--private_key", private, "--signature", whole)
    assert made.returncode == 0, made.stdout + made.stderr
    args = ("verify", str(archive), "--signature", str(whole), "--public-key", str(public))
    assert run_bundle(*args).returncode == 0
    (folder / "data" / "weights.bin").write_bytes(big[:-1] + b"!")
    assert ms("sign", "key", folder, "--private_key", private, "--signature", whole).returncode == 0
    differs = run_bundle(*args)
    assert differs.returncode == 4 and "data/weights.bin: sha256 differs" in differs.stderr
    assert not list(archive.parent.glob(".bundle-signed-*"))  # its temporary unpack is gone


def test_keys_with_passwords_and_what_is_refused(
    scaffold: Callable[..., Path], pack: Callable[..., Path], tmp_path: Path, run_bundle: Callable
) -> None:
    archive = pack(scaffold(clutter=False))
    private, public = keypair(tmp_path, password=b"s3cret-pass")
    sig = tmp_path / "a.sig"
    base = ("sign", str(archive), "--key", str(private), "-o", str(sig))
    missing = run_bundle(*base)
    assert missing.returncode == 2 and "password" in missing.stderr and not sig.exists()
    (tmp_path / "pw").write_text("s3cret-pass\n")
    assert run_bundle(*base, "--password-file", str(tmp_path / "pw")).returncode == 0
    first = sig.read_bytes()
    assert run_bundle(*base, env={"BUNDLE_KEY_PASSWORD": "s3cret-pass"}).returncode == 0
    assert sig.read_bytes() == first  # deterministic ECDSA: the same archive, the same signature
    ms_verify(unpack(archive, tmp_path / "u").path, sig, public)
    wrong = run_bundle(*base, env={"BUNDLE_KEY_PASSWORD": "nope"})
    assert wrong.returncode == 2 and "s3cret" not in wrong.stderr + wrong.stdout
    keyless = run_bundle("sign", str(archive), "--keyless")
    assert keyless.returncode == 2 and "needs the network" in keyless.stderr
    rsa_like = tmp_path / "not-a-key.pem"
    rsa_like.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    broken = run_bundle("sign", str(archive), "--key", str(rsa_like))
    assert broken.returncode == 2 and "not-a-key.pem" in broken.stderr
    assert "Traceback" not in broken.stderr
