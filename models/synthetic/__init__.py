"""Synthetic document pages with known text and ground-truth polygons, deterministic from a seed."""
