"""`iiif-server` serves without the training packages; `iiif-train` needs them and says so when missing."""

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from iiif_server import cli as server_cli
from models import training_extras
from models.cli import main as iiif_train

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_names(requirements: list[str]) -> set[str]:
    """`torch>=2.4` and the like as bare distribution names."""
    return {training_extras.NAME_END.split(line, maxsplit=1)[0] for line in requirements}


def modules_loaded_by(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of `names` a fresh interpreter has imported after running `code`."""
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {names!r} if m in sys.modules))\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_server_imports_no_training_package() -> None:
    """The server's modules, its CLI and the ONNX models import without torch, PyPI's onnx or models/."""
    code = "import extensions.server, iiif_server.cli, ocr_onnx"
    assert modules_loaded_by(code, ("torch", "onnx", "transformers", "models")) == []


def test_reading_the_settings_loads_no_model_runtime() -> None:
    """The gunicorn master builds the settings root and never runs a model: no onnxruntime, no OpenCV."""
    code = "from extensions.server_settings import ServerSettings\nServerSettings.from_env()"
    assert modules_loaded_by(code, ("onnxruntime", "cv2", "ocr_onnx.sessions")) == []


def test_training_packages_are_only_in_the_train_extra() -> None:
    project = PYPROJECT["project"]
    train = requirement_names(project["optional-dependencies"]["train"])
    assert {"torch", "onnx", "transformers"} <= train
    assert not train & requirement_names(project["dependencies"])
    assert project["scripts"]["iiif-train"] == "models.cli:main"
    assert set(training_extras.training_packages()) == train


def test_iiif_train_without_the_train_extra_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = metadata.distribution

    def without_torch(name: str) -> metadata.Distribution:
        if name == "torch":
            raise metadata.PackageNotFoundError(name)
        return installed(name)

    monkeypatch.setattr(training_extras.metadata, "distribution", without_torch)
    with pytest.raises(SystemExit, match=r"\(missing: torch\): run `scripts/setup --train`"):
        iiif_train(["synth", str(tmp_path / "pages"), "--pages", "1"])
    assert not (tmp_path / "pages").exists()


def test_iiif_server_still_runs_training_commands_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        server_cli.main(["synth", "--help"])
    assert exit_info.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: iiif-train synth")
    assert "`iiif-server synth` is now `iiif-train synth`" in err


def test_serve_sets_up_serving_only_and_the_test_command_everything() -> None:
    scripts = ROOT / "scripts"
    assert "\nscripts/setup\n" in (scripts / "serve").read_text()
    assert "\nscripts/setup --train --test\n" in (scripts / "test").read_text()
    assert "exec scripts/test" in (ROOT / ".ci" / "run").read_text()
