"""Stand-ins for the renderer, the span masker and the model, so the pipeline and trainer tests are fast and
independent of Pango and of the PIXEL model (those are covered by their own tests and the CLI smoke test)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from pixel.model.pixel import norm_pix_target, patchify
from pixel.pretrain.config import PretrainConfig
from pixel.pretrain.task import PretrainingTask
from pixel.render.encoding import Encoding

CHAR_WIDTH = 4


class StubRenderer:
    """Each character is a 4 px wide grey bar whose shade depends on the character; black end patch."""

    pixels_per_patch = 16

    def __init__(self, max_seq_length: int = 16):
        self.max_seq_length = max_seq_length

    def text_width(self, text: str) -> int:
        return CHAR_WIDTH * len(text)

    def __call__(self, text: str) -> Encoding:
        num_patches = self.max_seq_length
        image = np.full((16, 16 * num_patches), 255, dtype=np.uint8)
        shown = text[: (num_patches - 1) * 16 // CHAR_WIDTH]
        for i, char in enumerate(shown):
            image[4:12, CHAR_WIDTH * i: CHAR_WIDTH * i + 3] = (ord(char) * 37) % 200
        ntp = max(1, min(math.ceil(len(shown) * CHAR_WIDTH / 16), num_patches - 1))
        image[:, 16 * ntp: 16 * (ntp + 1)] = 0
        return Encoding(pixel_values=image, num_text_patches=ntp)

    def save_pretrained(self, folder) -> None:
        Path(folder, "text_renderer_config.json").write_text(json.dumps({"max_seq_length": self.max_seq_length}))


class StubMasker:
    """ceil(ratio * L) distinct random patches per example, from the given seed."""

    def __init__(self, num_patches: int, ratio: float = 0.25):
        self.num_patches, self.count = num_patches, math.ceil(ratio * num_patches)

    def __call__(self, num_text_patches: int, seed: int) -> np.ndarray:
        mask = np.zeros(self.num_patches, dtype=np.float32)
        mask[np.random.default_rng(seed).choice(self.num_patches, self.count, replace=False)] = 1.0
        return mask


class ToyMAE(nn.Module):
    """A masked-patch autoencoder small enough for second-long tests (same inputs and loss as PIXEL)."""

    def __init__(self, hidden: int = 16, dropout: float = 0.0):
        super().__init__()
        self.encoder = nn.Linear(768, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(dropout)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, hidden))
        self.decoder = nn.Linear(hidden, 768)

    def forward(self, pixel_values, attention_mask, patch_mask):
        patches = patchify(pixel_values)
        hidden = self.norm(torch.nn.functional.gelu(self.encoder(patches)))
        keep = (1 - patch_mask).unsqueeze(-1)
        hidden = self.dropout(hidden * keep + self.mask_token * (1 - keep))
        hidden = hidden + hidden.mean(dim=1, keepdim=True)
        prediction = self.decoder(hidden)
        per_patch = ((prediction - norm_pix_target(patches)) ** 2).mean(-1)
        counted = patch_mask * attention_mask
        return SimpleNamespace(loss=(per_patch * counted).sum() / counted.sum())

    def flops_per_example(self, training: bool = True) -> float:
        """2 FLOPs per weight and patch of a 16-patch strip, x3 with the backward pass (the trainer's MFU)."""
        return 2.0 * sum(p.numel() for p in self.parameters()) * 16 * (3 if training else 1)


def write_corpus(path: Path, lines: int = 200) -> Path:
    words = ["pixel", "language", "model", "render", "text", "patch", "strip", "image", "mask", "train"]
    rng = np.random.default_rng(0)
    text = "\n".join(" ".join(rng.choice(words, size=rng.integers(3, 12))) + f" {i}" for i in range(lines))
    path.write_text(text + "\n", encoding="utf-8")
    return path


def toy_task(tmp_path: Path, dropout: float = 0.0, corpus: Path | None = None, **settings) -> PretrainingTask:
    tmp_path.mkdir(parents=True, exist_ok=True)
    corpus = corpus or write_corpus(tmp_path / "corpus.txt")
    values = dict(train_files=[str(corpus)], validation_files=[str(corpus)], output_dir=str(tmp_path / "run"),
                  max_seq_length=16, min_patches=2, batch_size=4, max_steps=6, warmup_steps=2,
                  learning_rate=1e-2, min_lr=1e-3, log_every=1, save_every=3, validation_examples=8,
                  progress=False, tensorboard=False, device="cpu")
    values.update(settings)
    config = PretrainConfig(**values)
    config.validate()
    torch.manual_seed(0)
    return PretrainingTask(config, ToyMAE(dropout=dropout), StubRenderer(16), StubMasker(16))
