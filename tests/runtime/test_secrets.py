"""Secrets: declared names only, three sources, values never shown, also when the model fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import bundle_cli
from bundle_cli.errors import SecretError, UsageError, UserCodeError
from bundle_cli.runtime.scrub import Scrubber
from bundle_cli.runtime.secrets import Secrets, resolve_secrets

Copy = Callable[[str], Path]
TOKEN = "tok-3f9a8c1e77"


def test_secret_from_the_python_api(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("secrets"), secrets={"api_token": TOKEN})
    assert bundle.predict({"action": "read"}) == {"token_length": len(TOKEN)}
    assert bundle.predict({}) == {"declared": ["api_token"]}  # only the ones with a value


def test_secret_from_the_environment(bundle_copy: Copy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUNDLE_SECRET_API_TOKEN", TOKEN)
    bundle = bundle_cli.load(bundle_copy("secrets"))
    assert bundle.predict({"action": "read"}) == {"token_length": len(TOKEN)}


def test_secret_from_a_file_outside_the_bundle(bundle_copy: Copy, tmp_path: Path) -> None:
    path = bundle_copy("secrets")
    file = tmp_path / "secrets.env"
    file.write_text(f"# local secrets\nexport api_token='{TOKEN}'\nunrelated=1\n")
    bundle = bundle_cli.load(path, secrets_file=file)
    assert bundle.predict({"action": "read"}) == {"token_length": len(TOKEN)}
    inside = path / "secrets.env"
    inside.write_text(f"api_token={TOKEN}\n")
    with pytest.raises(UsageError, match="inside the bundle"):
        bundle_cli.load(path, secrets_file=inside)


def test_precedence_given_then_file_then_environment(tmp_path: Path) -> None:
    file = tmp_path / "s.json"
    file.write_text('{"a": "from-file", "b": "from-file"}')
    env = {"BUNDLE_SECRET_A": "from-env", "BUNDLE_SECRET_B": "from-env", "BUNDLE_SECRET_C": "env"}
    secrets = resolve_secrets(
        ["a", "b", "c"], {"a": "given"}, file, bundle_root=tmp_path / "b", environ=env
    )
    assert (secrets["a"], secrets["b"], secrets["c"]) == ("given", "from-file", "env")


def test_missing_secret_names_it_and_the_three_ways(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("secrets"))
    with pytest.raises(SecretError) as info:
        bundle.predict({"action": "read"})
    text = str(info.value)
    assert 'secret "api_token" has no value' in text
    for way in ("--secret api_token=VALUE", "BUNDLE_SECRET_API_TOKEN", "--secrets-file"):
        assert way in text
    assert info.value.exit_code == 2


def test_undeclared_secret_is_refused_even_with_a_value(
    bundle_copy: Copy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUNDLE_SECRET_NOT_DECLARED", TOKEN)
    bundle = bundle_cli.load(bundle_copy("secrets"))
    with pytest.raises(SecretError) as info:
        bundle.predict({"action": "read_undeclared"})
    assert 'secret "not_declared" is not declared in config.yaml' in str(info.value)
    assert "not_declared: null" in str(info.value) and TOKEN not in str(info.value)


def test_giving_an_undeclared_secret_is_a_usage_error(bundle_copy: Copy) -> None:
    with pytest.raises(UsageError, match="--secret nope: not a secret declared"):
        bundle_cli.load(bundle_copy("secrets"), secrets={"nope": TOKEN})


def test_optional_secret_with_get(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("secrets"), secrets={"api_token": TOKEN})
    assert bundle.predict({"action": "optional"}) == {"other_key": "unset"}


def test_secret_value_is_scrubbed_from_a_failing_models_traceback(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("secrets"), secrets={"api_token": TOKEN})
    with pytest.raises(UserCodeError) as info:
        bundle.predict({"action": "fail"})
    assert TOKEN not in info.value.user_traceback and TOKEN not in info.value.message
    assert "upstream refused token ***" in info.value.user_traceback


def test_the_mapping_never_shows_values() -> None:
    secrets = Secrets(["a"], {"a": TOKEN})
    assert TOKEN not in repr(secrets) and TOKEN not in str(secrets)
    assert dict(secrets) == {"a": TOKEN}  # readable on purpose, by the model


def test_scrubber_replaces_longest_first_and_spares_short_values() -> None:
    scrub = Scrubber(["abcd", "abcdef", "xy"])
    assert scrub("key=abcdef, other=abcd, xy") == "key=***, other=***, xy"
    lines: list[str] = []

    class Sink:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    writer = scrub.wrap(Sink())  # type: ignore[arg-type]
    writer.write("partial ab")
    writer.write("cdef end\nnext")
    writer.flush()
    assert "".join(lines) == "partial *** end\nnext"
