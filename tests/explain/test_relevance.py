"""Relevance maps on tiny models: one value per patch, zero on padding, the closed form of the Chefer rollout,
the least relevance for a patch the classifier provably ignores, token classification, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel.explain import relevance, word_relevances
from pixel.explain.relevance import chefer_rollout
from pixel.model.config import PIXELConfig
from pixel.model.heads import (
    PIXELForBiaffineParsing,
    PIXELForQuestionAnswering,
    PIXELForSequenceClassification,
    PIXELForTokenClassification,
)
from pixel.render.batch import collate, to_model_inputs

LENGTH = 32
TEXT = "A charming film."
MODES = ("cls", "mean", "max", "pma4")


@pytest.fixture(scope="module")
def renderer():
    pytest.importorskip("pangocairocffi")
    from pixel.render.pangocairo import PangoCairoTextRenderer

    return PangoCairoTextRenderer(max_seq_length=LENGTH)


def tiny_config(labels=("neg", "pos"), **overrides) -> PIXELConfig:
    return PIXELConfig.variant("tiny", image_size=[16, 16 * LENGTH], id2label=dict(enumerate(labels)),
                               label2id={label: i for i, label in enumerate(labels)}, **overrides)


def classifier(mode: str, seed: int = 0, **overrides) -> PIXELForSequenceClassification:
    torch.manual_seed(seed)
    model = PIXELForSequenceClassification(tiny_config(**overrides), pooling_mode=mode).eval()
    # larger weights than the N(0, 0.02) init, so that attention and gradients are far from uniform / tiny
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2 and "position" not in name:
                parameter.normal_(0, 0.15)
    return model


def logits_of(model, renderer, text):
    batch = collate([renderer(text)])
    with torch.no_grad():
        return model(to_model_inputs(batch["pixel_values"]), attention_mask=batch["attention_mask"]).logits[0]


@pytest.mark.parametrize("method", ["chefer", "gradient"])
@pytest.mark.parametrize("mode", MODES)
def test_one_value_per_patch_zero_on_padding(mode, method, renderer):
    model = classifier(mode)
    explained = relevance(model, renderer, TEXT, method=method)
    mask = renderer(TEXT).attention_mask
    assert 2 < mask.sum() < LENGTH  # the strip has text and padding
    assert explained.values.shape == (LENGTH,) and explained.values.dtype == np.float32
    assert np.isfinite(explained.values).all() and (explained.values >= 0).all()
    assert (explained.values[mask == 0] == 0).all()
    assert (explained.values[mask == 1] > 0).sum() >= mask.sum() / 2
    logits = logits_of(model, renderer, TEXT)
    assert explained.label_id == int(logits.argmax()) and explained.label == ("neg", "pos")[explained.label_id]
    assert explained.probability == pytest.approx(float(logits.softmax(-1).max()), abs=1e-5)
    assert explained.read_out == mode and np.array_equal(explained.attention_mask, mask)


def test_chosen_label_and_its_own_map(renderer):
    model = classifier("cls")
    maps = {label: relevance(model, renderer, TEXT, label=label) for label in ("neg", "pos")}
    assert [maps[name].label for name in ("neg", "pos")] == ["neg", "pos"]
    assert maps["neg"].probability + maps["pos"].probability == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(maps["neg"].values, maps["pos"].values)
    assert np.array_equal(relevance(model, renderer, TEXT, label=1).values, maps["pos"].values)


def test_cls_rollout_closed_form_two_layers(renderer):
    """Two layers: R = (I + C2)(I + C1), so the CLS row over the patches is C1[0] + C2[0] + (C2 C1)[0] with
    C_l = mean_h max(dy/dA_l * A_l, 0), the gradients taken here with retain_grad and backward()."""
    model = classifier("cls", num_hidden_layers=2)
    batch = collate([renderer(TEXT)])
    output = model(to_model_inputs(batch["pixel_values"]), attention_mask=batch["attention_mask"],
                   output_attentions=True)
    for attention in output.attentions:
        attention.retain_grad()
    label = int(output.logits[0].argmax())
    output.logits[0, label].backward()
    c1, c2 = ((a.grad * a).clamp(min=0).mean(dim=1)[0].detach() for a in output.attentions)
    expected = (c1[0] + c2[0] + (c2 @ c1)[0])[1:] * batch["attention_mask"][0]
    explained = relevance(model, renderer, TEXT)
    np.testing.assert_allclose(explained.values, expected.numpy(), rtol=1e-4, atol=1e-7)


def test_rollout_of_zero_gradients_is_the_identity():
    attention = torch.softmax(torch.randn(2, 3, 5, 5), dim=-1)
    rollout = chefer_rollout([attention, attention], [torch.zeros_like(attention), -torch.ones_like(attention)])
    assert torch.equal(rollout, torch.eye(5).expand(2, 5, 5))


def ignoring(model: PIXELForSequenceClassification, patch: int) -> PIXELForSequenceClassification:
    """Make ``model`` blind to ``patch``: the patch's token is 0 after the embeddings and after every layer,
    so with LayerNorm bias 0 and value bias 0 its value vector is 0 in every layer (it adds nothing to any
    other token) and the pooled output cannot depend on the patch's pixels."""
    def pin(hidden: torch.Tensor, position: int) -> torch.Tensor:
        hidden = hidden.clone()
        hidden[:, position] = 0
        return hidden

    model.vit.embeddings.register_forward_hook(lambda module, args, output: pin(output, patch))
    for layer in model.vit.encoder.layer:
        with torch.no_grad():
            layer.layernorm_before.bias.zero_()
            layer.attention.attention.value.bias.zero_()
        layer.register_forward_hook(lambda module, args, output: (pin(output[0], 1 + patch), output[1]))
    return model


@pytest.mark.parametrize("mode", MODES)
def test_a_patch_the_classifier_ignores_gets_the_least_relevance(mode, renderer):
    ignored = 3
    model = ignoring(classifier(mode), ignored)
    encoding = renderer(TEXT)
    text = encoding.attention_mask == 1
    # provably ignored: inking the patch black does not change the logits
    other = renderer(TEXT)
    other.pixel_values[:, ignored * 16 : (ignored + 1) * 16] = 0
    batch = collate([encoding, other])
    with torch.no_grad():
        logits = model(to_model_inputs(batch["pixel_values"]), attention_mask=batch["attention_mask"]).logits
    assert torch.equal(logits[0], logits[1])

    gradient = relevance(model, renderer, TEXT, method="gradient").values
    assert gradient[ignored] == 0 and gradient[text].max() > 0
    chefer = relevance(model, renderer, TEXT).values
    if mode == "cls":  # nothing flows from the patch into the CLS token
        assert chefer[ignored] == 0 and chefer[text].max() > 0
    elif mode == "mean":  # only the patch's own row, its identity share 1/n of the mean
        assert chefer[ignored] == pytest.approx(1 / text.sum(), rel=1e-6)
        assert chefer[ignored] <= chefer[text].min() and chefer[ignored] < chefer[text].max()


def token_model(seed: int = 0) -> PIXELForTokenClassification:
    torch.manual_seed(seed)
    model = PIXELForTokenClassification(tiny_config(labels=("NOUN", "VERB", "DET", "PUNCT"))).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2 and "position" not in name:
                parameter.normal_(0, 0.15)
    return model


@pytest.mark.parametrize("method", ["chefer", "gradient"])
def test_token_classification_one_map_per_word(method, renderer):
    model = token_model()
    words = ["The", "cat", "sleeps", "."]
    encoding = renderer(words)
    maps = word_relevances(model, renderer, " ".join(words), method=method, batch_size=3)
    batch = collate([encoding])
    with torch.no_grad():
        logits = model(to_model_inputs(batch["pixel_values"]), attention_mask=batch["attention_mask"]).logits[0]
    assert [m.word for m in maps] == [0, 1, 2, 3] and [m.patch for m in maps] == encoding.word_starts[:-1]
    for map_ in maps:
        assert map_.values.shape == (LENGTH,) and (map_.values[encoding.attention_mask == 0] == 0).all()
        assert map_.label_id == int(logits[map_.patch].argmax()) and map_.read_out == f"patch {map_.patch}"
        if method == "chefer":  # the read-out row's identity: the patch itself counts at least 1
            assert map_.values[map_.patch] >= 1
    single = relevance(model, renderer, words, method=method, word=2)
    np.testing.assert_allclose(single.values, maps[2].values, rtol=1e-5, atol=1e-8)
    by_patch = relevance(model, renderer, words, method=method, patch=maps[2].patch, label="DET")
    assert by_patch.label == "DET" and by_patch.word is None


def test_unsupported_models_say_so(renderer):
    config = tiny_config(labels=("start", "end"))
    with pytest.raises(ValueError, match="question answering scores answer spans"):
        relevance(PIXELForQuestionAnswering(config), renderer, TEXT)
    with pytest.raises(ValueError, match="parsing scores pairs of words"):
        relevance(PIXELForBiaffineParsing(tiny_config(labels=("nsubj", "root"))), renderer, TEXT)


class NoAttentions(PIXELForSequenceClassification):
    """A classifier that drops the attention probabilities from its output."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        output.attentions = None
        return output


def test_a_model_without_attention_outputs_says_so(renderer):
    torch.manual_seed(0)
    model = NoAttentions(tiny_config(), pooling_mode="cls")
    with pytest.raises(ValueError, match="no attention probabilities.*--method gradient"):
        relevance(model, renderer, TEXT)
    assert relevance(model, renderer, TEXT, method="gradient").values.shape == (LENGTH,)


def test_bad_arguments(renderer):
    model, tagger = classifier("cls"), token_model()
    with pytest.raises(ValueError, match="method 'lime' is unknown; choose one of chefer, gradient"):
        relevance(model, renderer, TEXT, method="lime")
    with pytest.raises(ValueError, match="label 'happy' is not a label of the model; its labels: neg, pos"):
        relevance(model, renderer, TEXT, label="happy")
    with pytest.raises(ValueError, match="a sequence classifier has one prediction"):
        relevance(model, renderer, TEXT, word=0)
    with pytest.raises(ValueError, match="pass word=INDEX or patch=INDEX"):
        relevance(tagger, renderer, "The cat")
    with pytest.raises(ValueError, match="word 5 is not one of the 2 rendered words"):
        relevance(tagger, renderer, "The cat", word=5)
    with pytest.raises(ValueError, match="patch 30 is outside the text patches"):
        relevance(tagger, renderer, "The cat", patch=30)
    with pytest.raises(ValueError, match="word_relevances explains token classifiers"):
        word_relevances(model, renderer, "The cat")
    with pytest.raises(ValueError, match="has no words"):
        word_relevances(tagger, renderer, "   ")
