"""Stage 1 and Stage 2 seconds per real page, server configurations side by side in one run."""
