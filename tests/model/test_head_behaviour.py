"""What each head computes: pooling (incl. the original's PMA quirks), QA's CLS-last convention, biaffine word
pooling and losses, label handling and bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_model_classes import GOLDEN, L, parsing_labels, strip_inputs, tiny_config

from pixel.model.heads import (
    PIXELForBiaffineParsing,
    PIXELForQuestionAnswering,
    PIXELForSequenceClassification,
    PIXELForTokenClassification,
    pool_words,
)
from pixel.model.pooling import (
    PoolingByMultiheadAttention,
    masked_max,
    masked_mean,
    parse_pooling_mode,
)

# ------------------------------------------------------------------------------------------- pooling


def test_masked_mean_and_max_by_hand() -> None:
    hidden = torch.tensor([[[1.0, -2.0], [3.0, 4.0], [100.0, 100.0]]])  # [1, 3, 2]; patch 2 is padding
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    torch.testing.assert_close(masked_mean(hidden, mask), torch.tensor([[2.0, 1.0]]))
    torch.testing.assert_close(masked_max(hidden, mask), torch.tensor([[3.0, 4.0]]))


def reference_pma(pma: PoolingByMultiheadAttention, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Spec 2.5 written out one example and one head at a time: keys multiplied by the mask after their
    projection, values and softmax unmasked, scores / sqrt(768-style full width), O = Q + AV, O + relu(fc_o O)."""
    mab = pma.mab
    width = hidden.shape[-1]
    head_width = width // mab.num_heads
    rows = []
    for b in range(hidden.shape[0]):
        q = pma.S[0] @ mab.fc_q.weight.T + mab.fc_q.bias  # [1, D]
        k = (hidden[b] @ mab.fc_k.weight.T + mab.fc_k.bias) * mask[b][:, None]  # [L, D]
        v = hidden[b] @ mab.fc_v.weight.T + mab.fc_v.bias
        heads = []
        for h in range(mab.num_heads):
            cols = slice(h * head_width, (h + 1) * head_width)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(width)
            heads.append(q[:, cols] + torch.softmax(scores, dim=-1) @ v[:, cols])
        o = torch.cat(heads, dim=-1)
        rows.append((o + torch.relu(o @ mab.fc_o.weight.T + mab.fc_o.bias))[0])
    return torch.stack(rows)


def test_pma_matches_the_spelled_out_original() -> None:
    torch.manual_seed(0)
    pma = PoolingByMultiheadAttention(hidden_size=16, num_heads=4)
    hidden = torch.randn(3, 5, 16)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=torch.float32)
    torch.testing.assert_close(pma(hidden, mask), reference_pma(pma, hidden, mask), rtol=1e-5, atol=1e-6)
    # the quirk: padding is not excluded (its keys score 0, its values count), so padding content matters
    changed = hidden.clone()
    changed[0, 3:] += 5.0
    assert not torch.allclose(pma(changed, mask)[0], pma(hidden, mask)[0])


def test_patch_weights_are_the_poolings_own_shares() -> None:
    """mean: 1/n per text patch; max: the share of dimensions whose max a patch holds (counted here from the
    pooled vector itself); pmaK: the seed's softmax over the patches, head-averaged (reference_pma's weights)."""
    from pixel.model.pooling import SequencePoolingHead

    torch.manual_seed(0)
    hidden = torch.randn(2, 5, 16)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float32)
    mean = SequencePoolingHead(16, 0.0, "mean").eval()
    torch.testing.assert_close(mean.patch_weights(hidden, mask), mask / mask.sum(1, keepdim=True))
    head = SequencePoolingHead(16, 0.0, "max").eval()
    pooled = head(hidden, mask)  # [2, 16]
    features = head.ln(head.activation(head.linear(hidden)))
    for b in range(2):
        holders = [int(((features[b, :, d] == pooled[b, d]) & (mask[b] == 1)).nonzero()[0]) for d in range(16)]
        expected = torch.tensor([holders.count(i) / 16 for i in range(5)])
        torch.testing.assert_close(head.patch_weights(hidden, mask)[b], expected)
    pma = SequencePoolingHead(16, 0.0, "pma4", add_layer_norm=False).eval()
    weights = pma.patch_weights(hidden, mask)
    mab = pma.pooling.pooler.mab
    q = pma.pooling.pooler.S[0] @ mab.fc_q.weight.T + mab.fc_q.bias
    k = (hidden @ mab.fc_k.weight.T + mab.fc_k.bias) * mask[..., None]
    per_head = [torch.softmax(q[:, h * 4 : h * 4 + 4] @ k[..., h * 4 : h * 4 + 4].transpose(1, 2) / 4.0, -1)
                for h in range(4)]
    torch.testing.assert_close(weights, torch.stack(per_head).mean(0)[:, 0])
    assert (weights[0, 3:] > 0).all()  # PMA's quirk: padding keeps softmax weight
    with pytest.raises(ValueError, match="cls pooling reads one vector"):
        SequencePoolingHead(16, 0.0, "cls").patch_weights(hidden, mask)


@pytest.mark.parametrize("mode", ["mean", "max", "cls", "pma4"])
def test_padding_content_reaches_the_logits_only_with_pma(mode: str) -> None:
    """Padding patches are masked as keys in the encoder and dropped by mean/max pooling, so their pixels do
    not change mean/max/cls logits; PMA keeps the original's unmasked values and does see them."""
    torch.manual_seed(0)
    model = PIXELForSequenceClassification(tiny_config(), pooling_mode=mode).eval()
    inputs = strip_inputs()
    changed = {**inputs, "pixel_values": inputs["pixel_values"].clone()}
    changed["pixel_values"][0, :, :, 16 * 3 :] = 0.0  # example 0 has 3 attended patches
    same = torch.allclose(model(**inputs).logits[0], model(**changed).logits[0], atol=1e-6)
    assert same == (mode != "pma4")
    torch.testing.assert_close(model(**inputs).logits[1], model(**changed).logits[1])


def test_pooling_mode_parsing() -> None:
    assert parse_pooling_mode("MEAN") == ("mean", 0)
    assert parse_pooling_mode("pma8") == ("pma", 8)
    for bad in ("avg", "pma", "pma0", "pmax"):
        with pytest.raises(ValueError, match="pooling_mode"):
            parse_pooling_mode(bad)
    with pytest.raises(ValueError, match="divisible"):
        PIXELForSequenceClassification(tiny_config(), pooling_mode="pma3")  # hidden 32


def test_attention_mask_none_means_all_ones() -> None:
    model = PIXELForSequenceClassification(tiny_config(), pooling_mode="mean").eval()
    pixel_values = strip_inputs()["pixel_values"]
    torch.testing.assert_close(
        model(pixel_values).logits, model(pixel_values, attention_mask=torch.ones(2, L)).logits
    )


# ------------------------------------------------------------------------------------------- losses


def test_problem_type_is_chosen_like_the_original_and_stored() -> None:
    inputs = strip_inputs()
    regression = PIXELForSequenceClassification(tiny_config(num_labels=1)).eval()
    out = regression(**inputs, labels=torch.tensor([0.5, 2.0]))
    assert regression.config.problem_type == "regression"
    torch.testing.assert_close(out.loss, ((out.logits[:, 0] - torch.tensor([0.5, 2.0])) ** 2).mean())

    multi = PIXELForSequenceClassification(tiny_config(num_labels=3)).eval()
    targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    out = multi(**inputs, labels=targets)
    assert multi.config.problem_type == "multi_label_classification"
    p = torch.sigmoid(out.logits)
    torch.testing.assert_close(out.loss, -(targets * p.log() + (1 - targets) * (1 - p).log()).mean())

    single = PIXELForSequenceClassification(tiny_config(num_labels=3)).eval()
    out = single(**inputs, labels=torch.tensor([2, 0]))
    assert single.config.problem_type == "single_label_classification"
    log_p = out.logits.log_softmax(-1)
    torch.testing.assert_close(out.loss, -(log_p[0, 2] + log_p[1, 0]) / 2)


def test_heads_keep_their_settings_in_their_own_config() -> None:
    config = tiny_config(num_labels=3)
    given = config.to_dict()
    model = PIXELForSequenceClassification(config, pooling_mode="max", add_layer_norm=False).eval()
    model(**strip_inputs(), labels=torch.tensor([2, 0]))
    parser = PIXELForBiaffineParsing(config)
    assert config.to_dict() == given  # the caller's config is untouched
    assert (model.config.pooling_mode, model.config.add_layer_norm) == ("max", False)
    assert model.config.problem_type == "single_label_classification"
    assert parser.config.pad_token_id == -100 and parser.config is not model.config


def test_qa_appends_cls_last() -> None:
    torch.manual_seed(0)
    model = PIXELForQuestionAnswering(tiny_config(num_labels=2)).eval()
    inputs = strip_inputs()
    out = model(**inputs)
    hidden = model.vit(**inputs).last_hidden_state  # [B, 1 + L, D], CLS first
    weight, bias = model.qa_outputs.weight, model.qa_outputs.bias
    torch.testing.assert_close(out.start_logits[:, L], hidden[:, 0] @ weight[0] + bias[0])  # index L = CLS
    torch.testing.assert_close(out.end_logits[:, L], hidden[:, 0] @ weight[1] + bias[1])
    torch.testing.assert_close(out.start_logits[:, :L], hidden[:, 1:] @ weight[0] + bias[0])
    assert out.start_logits.shape == (2, L + 1)


def test_qa_loss_positions() -> None:
    torch.manual_seed(0)
    model = PIXELForQuestionAnswering(tiny_config(num_labels=2)).eval()
    inputs = strip_inputs()
    out = model(**inputs)
    log_start, log_end = out.start_logits.log_softmax(-1), out.end_logits.log_softmax(-1)
    # example 0 answers at patches 1..2, example 1 has no answer (index L); example 1's start is out of range
    # (> L + 1 is clamped to L + 1 and ignored, as the original)
    loss = model(
        **inputs, start_positions=torch.tensor([1, L + 7]), end_positions=torch.tensor([[2], [L]])
    ).loss
    expected = (-log_start[0, 1] + (-log_end[0, 2] - log_end[1, L]) / 2) / 2
    torch.testing.assert_close(loss, expected)
    all_ignored = model(
        **inputs, start_positions=torch.tensor([L + 1] * 2), end_positions=torch.tensor([L + 1] * 2)
    )
    assert all_ignored.loss.item() == 0.0  # the original gave NaN here
    with pytest.raises(ValueError, match="start_positions"):
        model(**inputs, start_positions=torch.tensor([1.0, 2.0]), end_positions=torch.tensor([1, 2]))


# ------------------------------------------------------------------------------------------- parsing


def test_word_pooling_by_hand() -> None:
    patches = torch.stack([torch.tensor([float(i), 10.0 * i]) for i in range(6)]).expand(
        3, 6, 2
    )  # p_i = [i, 10i]
    word_starts = torch.tensor(
        [
            [0, 2, 2, 5, -100, -100, -100],  # [0, 2) -> p0,p1; [2, 2) -> p2 alone; [2, 5) -> p2,p3,p4
            [0, 3, 0, 4, -100, -100, -100],  # stops at the first next start <= 0
            [-100, 1, -100, 4, 6, -100, -100],  # padding anywhere is dropped first: [1, 4), [4, 6)
        ]
    )
    words = pool_words(patches, word_starts)
    expected = torch.zeros(3, 6, 2)
    expected[0, :3] = torch.tensor([[0.5, 5.0], [2.0, 20.0], [3.0, 30.0]])
    expected[1, :1] = torch.tensor([[1.0, 10.0]])
    expected[2, :2] = torch.tensor([[2.0, 20.0], [4.5, 45.0]])
    torch.testing.assert_close(words, expected)
    with pytest.raises(ValueError, match="non-decreasing"):
        pool_words(patches[:1], torch.tensor([[0, 4, 2, -100]]))
    with pytest.raises(ValueError, match="at most"):
        pool_words(patches[:1], torch.zeros(1, 8, dtype=torch.long))


def test_word_pooling_gradients_flow_only_to_word_patches() -> None:
    patches = torch.randn(1, 6, 4, requires_grad=True)
    pool_words(patches, torch.tensor([[1, 3, -100]])).sum().backward()
    touched = patches.grad.abs().sum(-1)[0] > 0
    assert touched.tolist() == [False, True, True, False, False, False]


def test_parsing_loss_at_initialisation_is_uniform() -> None:
    """Biaffine weights start at zero (as the original), so every arc and relation score is 0 and the loss
    is log(L + 1) (heads) + log(R) (relations)."""
    model = PIXELForBiaffineParsing(tiny_config(num_labels=5)).eval()
    out = model(**strip_inputs(), **parsing_labels())
    assert torch.count_nonzero(out.arc_logits) == 0 and torch.count_nonzero(out.rel_logits) == 0
    torch.testing.assert_close(out.loss, torch.tensor(math.log(L + 1) + math.log(5)))


def test_parsing_root_is_the_pooler_output() -> None:
    torch.manual_seed(0)
    model = PIXELForBiaffineParsing(tiny_config(num_labels=5)).eval()
    torch.nn.init.normal_(model.biaffine_arcs.weight)
    inputs, labels = strip_inputs(), parsing_labels()
    out = model(**inputs, word_starts=labels["word_starts"])
    encoded = model.vit(**inputs)
    words = pool_words(encoded.last_hidden_state[:, 1:], labels["word_starts"])
    root = encoded.pooler_output
    weight = model.biaffine_arcs.weight[0]  # [D + 1, D]
    deps = torch.cat([words, torch.ones(2, L, 1)], dim=-1)
    torch.testing.assert_close(
        out.arc_logits[:, :, 0], ((deps @ weight) * root[:, None]).sum(-1)
    )  # head 0 = ROOT
    torch.testing.assert_close(out.arc_logits[:, :, 1:], deps @ weight @ words.transpose(1, 2))


# ------------------------------------------------------------------------------------------- bad inputs


def seq_model() -> PIXELForSequenceClassification:
    return PIXELForSequenceClassification(tiny_config(num_labels=3)).eval()


def test_labels_out_of_range_are_clear_errors() -> None:
    inputs = strip_inputs()
    with pytest.raises(ValueError, match=r"labels has values \[3\] outside \[0, 2\]"):
        seq_model()(**inputs, labels=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"labels has values \[-1\]"):
        seq_model()(**inputs, labels=torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match="one class index per example"):
        seq_model()(**inputs, labels=torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="regression"):
        PIXELForSequenceClassification(tiny_config(num_labels=1))(
            **inputs, labels=torch.tensor([1.0, 2.0, 3.0])
        )
    with pytest.raises(ValueError, match="multi-label"):
        seq_model()(**inputs, labels=torch.tensor([0.0, 1.0]))
    token = PIXELForTokenClassification(tiny_config(num_labels=3))
    with pytest.raises(ValueError, match=r"labels has values \[7\]"):
        token(**inputs, labels=torch.full((2, L), 7))
    with pytest.raises(ValueError, match="shape"):
        token(**inputs, labels=torch.zeros(2, L - 1, dtype=torch.long))
    parser = PIXELForBiaffineParsing(tiny_config(num_labels=5))
    labels = parsing_labels()
    bad_arcs = labels["arc_labels"].clone()
    bad_arcs[0, 0] = L + 1  # heads are 0..L
    with pytest.raises(ValueError, match="arc_labels"):
        parser(**inputs, **{**labels, "arc_labels": bad_arcs})
    bad_rels = labels["rel_labels"].clone()
    bad_rels[1, 0] = 5
    with pytest.raises(ValueError, match="rel_labels"):
        parser(**inputs, **{**labels, "rel_labels": bad_rels})
    with pytest.raises(ValueError, match="word_starts"):
        parser(**inputs)


@pytest.mark.parametrize(
    "build",
    [
        lambda: PIXELForSequenceClassification(tiny_config(), pooling_mode="mean"),
        lambda: PIXELForSequenceClassification(tiny_config(), pooling_mode="cls"),
        lambda: PIXELForTokenClassification(tiny_config()),
        lambda: PIXELForQuestionAnswering(tiny_config(num_labels=2)),
        lambda: PIXELForBiaffineParsing(tiny_config(num_labels=5)),
    ],
    ids=["seq-mean", "seq-cls", "token", "qa", "parsing"],
)
def test_attention_mask_without_text_patch_and_wrong_image_size(build) -> None:
    model = build()
    inputs = strip_inputs()
    inputs["attention_mask"][1] = 0
    extra = (
        {"word_starts": parsing_labels()["word_starts"]} if isinstance(model, PIXELForBiaffineParsing) else {}
    )
    with pytest.raises(ValueError, match="attention_mask"):
        model(**inputs, **extra)
    with pytest.raises(ValueError, match="16"):
        model(torch.rand(2, 3, 16, 16 * (L + 1)), **extra)


def test_qa_needs_two_labels() -> None:
    with pytest.raises(ValueError, match="num_labels 2"):
        PIXELForQuestionAnswering(tiny_config(num_labels=3))


def test_batches_without_any_label_give_zero_loss_not_nan() -> None:
    inputs = strip_inputs()
    token = PIXELForTokenClassification(tiny_config(num_labels=3))
    assert token(**inputs, labels=torch.full((2, L), -100)).loss.item() == 0.0
    parser = PIXELForBiaffineParsing(tiny_config(num_labels=5))
    padding = torch.full((2, L), -100)
    out = parser(
        **inputs, word_starts=parsing_labels()["word_starts"], arc_labels=padding, rel_labels=padding
    )
    assert out.loss.item() == 0.0


def test_qa_drops_an_encoder_pooler_silently(tmp_path, caplog) -> None:
    source = PIXELForSequenceClassification(tiny_config(num_labels=2), pooling_mode="cls")
    source.save_pretrained(tmp_path)
    with caplog.at_level("WARNING"):
        qa = PIXELForQuestionAnswering.from_pretrained(tmp_path)
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "qa_outputs" in messages and "vit.pooler" not in messages
    assert "vit.pooler.dense.weight" not in qa.state_dict()
    torch.testing.assert_close(qa.vit.layernorm.weight, source.vit.layernorm.weight)


def test_heads_read_the_original_encoder_states() -> None:
    """Heads built from the original's tiny checkpoint (eval mode) compute their outputs from the encoder
    states the original produced for the same strips (golden last_hidden_state_unshuffled, CLS first)."""
    case = np.load(GOLDEN / "tiny-encoder-nomask.npz")
    pixel_values = torch.from_numpy(case["pixel_values"]).float()
    attention_mask = torch.from_numpy(case["attention_mask"]).float()
    states = torch.from_numpy(case["last_hidden_state_unshuffled"]).float()  # [3, 530, 32]
    patches, cls = states[:, 1:], states[:, 0]

    token = PIXELForTokenClassification.from_pretrained(GOLDEN / "tiny-pixel", num_labels=4)
    with torch.no_grad():
        logits = token(pixel_values, attention_mask).logits
        torch.testing.assert_close(logits, token.classifier(patches), atol=1e-5, rtol=0)

        qa = PIXELForQuestionAnswering.from_pretrained(GOLDEN / "tiny-pixel")
        expected = qa.qa_outputs(torch.cat([patches, cls[:, None]], dim=1))
        torch.testing.assert_close(
            qa(pixel_values, attention_mask).start_logits, expected[..., 0], atol=1e-5, rtol=0
        )

        seq = PIXELForSequenceClassification.from_pretrained(GOLDEN / "tiny-pixel", pooling_mode="mean")
        hidden = seq.pooler.ln(F.gelu(seq.pooler.linear(patches)))
        pooled = (hidden * attention_mask[..., None]).sum(1) / attention_mask.sum(1, keepdim=True)
        torch.testing.assert_close(
            seq(pixel_values, attention_mask).logits, seq.classifier(pooled), atol=1e-5, rtol=0
        )
