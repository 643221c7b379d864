"""The official IIIF validator, run against the real server on loopback."""
