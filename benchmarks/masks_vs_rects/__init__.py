"""Distinct masked lines and blocks against the same rectangles, side by side in one run."""
