"""Comparing desired and live state: normalisation of both sides into comparable views."""
