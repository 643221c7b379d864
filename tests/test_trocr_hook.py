"""The TrOCR fine-tuning hook on a tiny VisionEncoderDecoderModel built and saved here (nothing downloaded):
a few steps on a dataset the builder makes from synthetic pages, then the saved model reloads offline."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from models.config import load_config
from models.stage2 import trocr
from models.stage2.trocr import TrocrConfig

CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"()-"
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
PAD, START, END = 0, 1, 2
STEPS = 4
CONFIGS = Path(__file__).resolve().parents[1] / "models" / "configs"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    torch.set_num_threads(2)


def tiny_checkpoint(folder: Path) -> Path:
    """A one-layer ViT encoder and TrOCR decoder with a character-level tokenizer, saved to `folder`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import (
        PreTrainedTokenizerFast,
        TrOCRConfig,
        TrOCRProcessor,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    vocab = {token: index for index, token in enumerate((*SPECIALS, *sorted(set(CHARACTERS))))}
    tokens = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokens.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokens.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", END)])
    tokens.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tokens, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    images = ViTImageProcessor(size={"height": 32, "width": 128}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    encoder = ViTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=(32, 128),
        patch_size=8,
    )
    decoder = TrOCRConfig(
        vocab_size=len(vocab),
        d_model=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        max_position_embeddings=160,
        pad_token_id=PAD,
        bos_token_id=START,
        eos_token_id=END,
        decoder_start_token_id=START,
    )
    torch.manual_seed(0)
    model = VisionEncoderDecoderModel(
        VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    )
    model.config.decoder_start_token_id, model.config.pad_token_id = None, None  # the hook fills them in
    model.save_pretrained(folder)
    TrOCRProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the original checkpoint, the folder the hook saved to)."""
    root = tmp_path_factory.mktemp("trocr")
    checkpoint = tiny_checkpoint(root / "checkpoint")
    config = {
        "checkpoint": str(checkpoint),
        # seed 17: the second of two synthetic pages falls into `val`
        "data": {"synthetic": {"pages": 2, "seed": 17, "page_size": [1240, 1754]}},
        "max_steps": STEPS,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "max_target_length": 64,
        "eval_lines": 4,
    }
    (root / "trocr.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = trocr.run(root / "trocr.yaml", root / "out", "cpu")
    return checkpoint, out


def test_a_few_steps_lower_the_loss(fine_tuned: tuple[Path, Path]) -> None:
    _, out = fine_tuned
    metrics = json.loads((out / "metrics.json").read_text())
    losses = metrics["losses"]
    assert len(losses) == STEPS
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0]
    assert metrics["val_cer"] >= 0.0 and math.isfinite(metrics["val_cer"])


def test_the_saved_model_reloads_offline_changed_and_reads(fine_tuned: tuple[Path, Path]) -> None:
    from transformers import TrOCRProcessor, VisionEncoderDecoderModel

    checkpoint, out = fine_tuned
    original = VisionEncoderDecoderModel.from_pretrained(checkpoint, local_files_only=True)
    model = VisionEncoderDecoderModel.from_pretrained(out, local_files_only=True).eval()
    processor = TrOCRProcessor.from_pretrained(out, local_files_only=True)
    assert model.config.decoder_start_token_id == START and model.config.pad_token_id == PAD
    before, after = original.state_dict(), model.state_dict()
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[key], after[key]) for key in before)
    crop = np.full((40, 300, 3), 255, np.uint8)
    crop[12:28, 20:280] = 30
    pixels = processor(images=[crop], return_tensors="pt").pixel_values
    assert pixels.shape == (1, 3, 32, 128)
    generated = model.generate(pixels, max_new_tokens=8)
    assert generated.shape[0] == 1 and generated[0, 0] == START
    assert isinstance(processor.batch_decode(generated, skip_special_tokens=True)[0], str)


def test_the_shipped_config_parses() -> None:
    settings = load_config(CONFIGS / "trocr_finetune.yaml", TrocrConfig)
    assert settings.data.dataset is not None and settings.epochs >= 1
