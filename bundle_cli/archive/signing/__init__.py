"""Signatures in the OpenSSF model-signing v1 format: a Sigstore bundle (v0.3) holding a DSSE
envelope whose payload is an in-toto Statement v1 listing every file's sha256.

`statement` builds and reads the statement (no cryptography), `envelope` signs and opens the
Sigstore bundle with an EC key through the `cryptography` library, `sign` and `check` are the
commands. A signature says nothing the manifest does not: it is made from the manifest's
digests, and `bundle verify` checks the bytes against the manifest and the manifest against it.
"""
