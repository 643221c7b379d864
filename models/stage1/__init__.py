"""Stage 1: a small U-Net text-line segmenter, trained on pages with line polygons."""
