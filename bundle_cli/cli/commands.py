"""Imports every command module so that each registers itself on the app."""

from __future__ import annotations
