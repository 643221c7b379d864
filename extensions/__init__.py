"""Non-standard extensions of the IIIF core: polygon regions, batch masking, annotation formats."""
