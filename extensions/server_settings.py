"""Every setting of the full server, the core's and each extension's: read from the environment once, at start
(`ServerSettings.from_env`), then passed down. The README's settings table lists every variable read."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from iiif_server.env import Env
from iiif_server.settings import Settings
from ocr_onnx.onnx_settings import OnnxSettings

from .job_settings import JobSettings
from .mask_settings import MaskSettings
from .ocr_settings import OCRSettings


@dataclass(frozen=True)
class ServerSettings:
    """The settings tree: the IIIF core, the extensions to load (None: every one) and each one's settings."""

    core: Settings = field(default_factory=Settings)
    extensions: tuple[str, ...] | None = None
    masks: MaskSettings = field(default_factory=MaskSettings)
    ocr: OCRSettings = field(default_factory=OCRSettings)
    onnx: OnnxSettings = field(default_factory=OnnxSettings)
    jobs: JobSettings = field(default_factory=JobSettings)

    @classmethod
    def from_env(cls, variables: Mapping[str, str] | None = None) -> "ServerSettings":
        """Read every setting from the process's environment (or from `variables`); unset ones keep their
        defaults, and a malformed one is a ValueError naming it."""
        env = Env(variables)
        names = env.items("IIIF_EXTENSIONS")
        return cls(
            core=Settings.read(env),
            extensions=tuple(name for name in names if name != "none") if names else None,
            masks=MaskSettings.read(env),
            ocr=OCRSettings.read(env),
            onnx=OnnxSettings.read(env),
            jobs=JobSettings.read(env),
        )
