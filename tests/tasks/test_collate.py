"""`collate` on task features: [B, ...] tensors, uint8 images kept until the device, the float model input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel.data.tasks.alignment import parsing_feature, token_feature
from pixel.data.tasks.classification import classification_feature, read_classification
from pixel.data.tasks.labels import IGNORE_INDEX
from pixel.render.batch import collate, to_model_inputs

from .conftest import TASK_DATA


def test_token_batch(stub_renderer):
    features = [
        token_feature(stub_renderer(["The", "quick", "fox"]), [1, 2, 3]),  # 4 text patches
        token_feature(stub_renderer(["Hi"]), [4]),  # 1 text patch
    ]
    batch = collate(features)
    assert batch["pixel_values"].dtype == torch.uint8 and batch["pixel_values"].shape == (2, 16, 256)
    assert batch["attention_mask"].dtype == torch.float32
    assert batch["attention_mask"].sum(dim=1).tolist() == [5.0, 2.0]  # text patches + the end patch
    assert batch["labels"].dtype == torch.int64 and batch["labels"].shape == (2, 16)
    assert batch["labels"][1, :2].tolist() == [4, IGNORE_INDEX]


def test_parsing_batch_shapes(stub_renderer):
    features = [
        parsing_feature(stub_renderer(["a", "b"]), [2, 0], [0, 1]),
        parsing_feature(stub_renderer(["c"]), [0], [1]),
    ]
    batch = collate(features)
    assert batch["word_starts"].shape == (2, 17)
    assert batch["arc_labels"].shape == batch["rel_labels"].shape == (2, 16)


def test_classification_and_regression_labels(stub_renderer):
    encoding = stub_renderer(["text"])
    ids = collate([classification_feature(encoding, 1), classification_feature(encoding, 0)])
    assert ids["labels"].dtype == torch.int64 and ids["labels"].tolist() == [1, 0]
    examples = read_classification(
        TASK_DATA / "stsb.jsonl",
        text_column="sentence1",
        pair_column="sentence2",
        label_column="score",
        regression=True,
    )
    scores = collate([classification_feature(encoding, e.label) for e in examples])
    assert scores["labels"].dtype == torch.float32
    assert scores["labels"].tolist() == pytest.approx([4.8, 0.2, 3.5])
    unlabelled = collate([classification_feature(encoding, None)])
    assert "labels" not in unlabelled


def test_collate_errors(stub_renderer):
    with pytest.raises(ValueError, match="empty list"):
        collate([])
    small = {"pixel_values": np.zeros((16, 32), np.uint8), "num_text_patches": 1}
    with pytest.raises(ValueError, match="different image shapes"):
        collate([small, token_feature(stub_renderer(["a"]), [0])])


def test_model_input_is_float_three_channels_in_unit_range():
    grey = torch.tensor([[[0, 255], [51, 102]]], dtype=torch.uint8)  # [1, 2, 2]
    out = to_model_inputs(grey)
    assert out.shape == (1, 3, 2, 2) and out.dtype == torch.float32
    assert torch.equal(out[0, 0], out[0, 2])
    assert out[0, 1].flatten().tolist() == pytest.approx([0.0, 1.0, 0.2, 0.4])
    rgb = torch.zeros(1, 2, 2, 3, dtype=torch.uint8)
    rgb[..., 2] = 255  # blue channel
    assert to_model_inputs(rgb)[0, :, 0, 0].tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="uint8"):
        to_model_inputs(torch.zeros(1, 2, 2))
