"""IIIF Image API 3.0 server built on Starlette and pyvips."""
