"""Pickles are code: find every one in a bundle and say, without unpickling, what it would do.

`opcodes` follows one pickle stream, `containers` finds streams inside files (zip, gzip, numpy,
joblib), `allow` holds the allow-list (allowed.txt) and trust, `inventory` puts them together
for `bundle validate`, `predict` and `diff`.
"""
