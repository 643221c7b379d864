"""`python -m iiif_server` is the `iiif-server` command."""

from .cli import main

main()
