"""The manifest of a model file made from another one (an INT8 copy, a folded copy): the same recipe, a name
and version of its own, the new file and its checksum."""

import json
from pathlib import Path


def derived_manifest(raw: dict, suffix: str, how: str, model_file: str, sha256: str) -> dict:
    """`raw` (the source's manifest) for its copy: named `<name>-<suffix>`, its version saying `how` it was
    made (so cached predictions are not shared), the new file next to the manifest and its checksum; crop
    recipe, normalisation and charset unchanged."""
    manifest = {key: value for key, value in raw.items() if key != "package"}
    return {
        **manifest,
        "name": f"{raw['name']}-{suffix}",
        "version": f"{raw['version']}; {how}",
        "file": model_file,
        "sha256": sha256,
    }


def write_manifest(manifest: dict, path: Path) -> None:
    """Write a manifest as the shipped ones are written (indented UTF-8 JSON)."""
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
