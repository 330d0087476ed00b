"""On-the-fly dataset: sharding over ranks and workers, resumable position, seeded masks, device inputs."""

import numpy as np
import torch
from torch.utils.data import DataLoader
from toy import StubMasker, StubRenderer, toy_task, write_corpus

from pixel.data.pretraining import PretrainingDataset
from pixel.data.text import TextSource


def make_dataset(corpus, batch_size=3, **kwargs):
    source = TextSource(files=[str(corpus)])
    return PretrainingDataset(source, StubRenderer(16), batch_size, masker=StubMasker(16), min_patches=2,
                              **kwargs)


def take(dataset, num_workers, count):
    loader = DataLoader(dataset, batch_size=None, num_workers=num_workers)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == count:
            break
    return batches


def test_two_ranks_two_workers_cover_every_example_once_in_global_batch_order(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=60)
    single = make_dataset(corpus, batch_size=6, repeat=False)
    total = sum(len(b["example_index"]) for b in single)
    assert total > 12
    steps = total // 6
    per_rank = [take(make_dataset(corpus, rank=r, world_size=2, repeat=False), 2, steps) for r in range(2)]
    seen = []
    for step in range(steps):
        rank0, rank1 = per_rank[0][step]["example_index"], per_rank[1][step]["example_index"]
        # global batch `step` = examples [6 step, 6 step + 6): rank 0 the first half, rank 1 the second
        assert rank0.tolist() == list(range(6 * step, 6 * step + 3))
        assert rank1.tolist() == list(range(6 * step + 3, 6 * step + 6))
        seen += rank0.tolist() + rank1.tolist()
    assert sorted(seen) == list(range(6 * steps))  # no duplicates, no drops


def test_same_examples_and_masks_whatever_the_workers(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=60)
    in_process = take(make_dataset(corpus, seed=5), 0, 4)
    with_workers = take(make_dataset(corpus, seed=5), 2, 4)
    for a, b in zip(in_process, with_workers, strict=True):
        for key in a:
            assert torch.equal(a[key], b[key]), key
    other_seed = take(make_dataset(corpus, seed=6), 0, 1)[0]
    assert torch.equal(other_seed["pixel_values"], in_process[0]["pixel_values"])
    assert not torch.equal(other_seed["patch_mask"], in_process[0]["patch_mask"])


def test_start_batch_resumes_exactly_and_the_stream_cycles_over_epochs(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=30)
    per_epoch = sum(len(b["example_index"]) for b in make_dataset(corpus, repeat=False))
    full = take(make_dataset(corpus), 0, 3 * per_epoch)
    resumed = take(make_dataset(corpus, start_batch=5), 2, 4)
    for a, b in zip(full[5:9], resumed, strict=True):
        assert torch.equal(a["example_index"], b["example_index"])
        assert torch.equal(a["pixel_values"], b["pixel_values"])
    indices = torch.cat([b["example_index"] for b in full]).tolist()
    assert indices == list(range(len(indices)))
    # epoch 2 shows the same texts again, with new masks (new example numbers)
    first_epoch = torch.cat([b["pixel_values"] for b in full])[:per_epoch]
    second_epoch = torch.cat([b["pixel_values"] for b in full])[per_epoch: 2 * per_epoch]
    assert torch.equal(first_epoch, second_epoch)


def test_batch_contents_and_model_inputs(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=20)
    batch = take(make_dataset(corpus), 0, 1)[0]
    assert batch["pixel_values"].dtype == torch.uint8 and batch["pixel_values"].shape == (3, 16, 256)
    ntp = batch["num_text_patches"]
    for row in range(3):
        expected = np.zeros(16, dtype=np.float32)
        expected[: ntp[row] + 1] = 1
        assert batch["attention_mask"][row].numpy().tolist() == expected.tolist()
    assert batch["patch_mask"].sum(1).tolist() == [4.0, 4.0, 4.0]
    inputs = toy_task(tmp_path / "task").model_inputs(batch, "cpu")
    assert inputs["pixel_values"].shape == (3, 3, 16, 256) and inputs["pixel_values"].dtype == torch.float32
    assert torch.equal(inputs["pixel_values"][:, 0], batch["pixel_values"].float() / 255)
    assert torch.equal(inputs["pixel_values"][:, 0], inputs["pixel_values"][:, 2])


def test_packed_examples_fit_the_strip(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", lines=40)
    dataset = make_dataset(corpus, repeat=False)
    limit = 16 * 16 - 32
    for text in dataset.packed_examples():
        assert sum(4 * len(line) for line in text.split(" ")) <= limit + 4 * text.count(" ")
        assert 4 * len(text) - 4 * text.count(" ") < limit


def test_the_rendering_reaches_the_workers(tmp_path):
    """A bigram renderer is pickled into 2 DataLoader workers and renders there exactly as in the process."""
    import pytest

    pytest.importorskip("pangocairocffi")
    from pixel.render.pangocairo import PangoCairoTextRenderer

    corpus = write_corpus(tmp_path / "c.txt", lines=40)

    def batches(rendering, workers):
        renderer = PangoCairoTextRenderer(max_seq_length=64, rendering=rendering)
        dataset = PretrainingDataset(TextSource(files=[str(corpus)]), renderer, 2, masker=StubMasker(64),
                                     min_patches=2, seed=3)
        return take(dataset, workers, 3)

    in_process, with_workers = batches("bigrams", 0), batches("bigrams", 2)
    for a, b in zip(in_process, with_workers, strict=True):
        for key in a:
            assert torch.equal(a[key], b[key]), key
    continuous = batches("continuous", 2)
    assert not torch.equal(continuous[0]["pixel_values"], in_process[0]["pixel_values"])
