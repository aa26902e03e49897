"""`printable`: what the tool shows a person never carries a terminal control sequence."""

from __future__ import annotations

import re

from bundle_cli.textsafe import _UNSAFE, printable


def test_controls_and_bidi_overrides_are_shown_as_escapes() -> None:
    assert printable("title\x1b]0;pwned\x07 \x1b[2J") == "title\\x1b]0;pwned\\x07 \\x1b[2J"
    assert printable("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert printable("a\nb\tc") == "a\\x0ab\\x09c"
    assert printable("a\nb\tc\x1b", keep_lines=True) == "a\nb\tc\\x1b"
    assert printable("\x85\u2028\u2066") == "\\x85\\u2028\\u2066"


def test_text_without_controls_is_returned_as_it_is() -> None:
    text = "model: 漢字 é ü — ok ✓ 🙂"
    assert printable(text) is text


def test_every_character_isprintable_accepts_is_safe() -> None:
    # `printable` returns text that str.isprintable() accepts unchanged: that shortcut holds only
    # while no character the pattern escapes is one isprintable() calls printable.
    unsafe = re.compile(_UNSAFE)
    assert [hex(c) for c in range(0x110000) if chr(c).isprintable() and unsafe.match(chr(c))] == []
