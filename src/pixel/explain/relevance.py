"""Relevance of each patch of a strip for a fine-tuned classifier's prediction.

``chefer`` (Chefer, Gur and Wolf, ICCV 2021, "Generic attention-model explainability", as the original's
`utils/interpretability.py`, spec 3.4): with A_l the attention probabilities of layer l [H, T, T] and G_l the
gradient of the explained logit with respect to them,

    R = I (T x T, T = 1 + L tokens: CLS then the patches);  for each layer l:  R = R + mean_h(max(G_l * A_l, 0)) @ R

Row t of R says how much each input token contributed to the output at token t. The read-out takes the rows
the classifier reads:

- ``cls`` pooling (the original's case): the CLS row, R[0, 1:];
- ``mean`` pooling: the text patches' rows averaged, as the pooling averages their outputs;
- ``max`` pooling: the patches' rows weighted by the share of the D hidden dimensions whose maximum each
  patch holds (the pooled vector takes that share of its entries from that patch's output);
- ``pmaK`` pooling: the patches' rows weighted by PMA's attention weights (the learned seed's softmax over the
  patches, averaged over the K heads); PMA does not mask its softmax, so padding rows get weight too and pass
  on what they attended to;
- token classification: the row of the explained patch (a word's first patch, where its label is read).

``gradient`` (gradient x input): |sum_d dy/de_{i,d} * e_{i,d}| for the patch embedding e_i (the projection of
the patch's pixels, before the position embedding): one backward pass, no attention maps.

Both maps are >= 0 with one value per patch, and 0 outside the attention mask (the padding, which holds no
text; under PMA its own identity share is dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from pixel.render.encoding import Encoding

METHODS = ("chefer", "gradient")


@dataclass
class Relevance:
    """One relevance map.

    values: float32 [L], one value per patch, >= 0, 0 outside the attention mask.
    method: "chefer" or "gradient"; read_out: which rows were read ("cls", "mean", "max", "pma4", "patch 7").
    label / label_id: the explained label (the predicted one unless chosen); probability: its softmax
    probability (None for regression).
    text: what was rendered (a string, a (text, pair) tuple or a list of words); encoding: the render
    (pixel_values uint8 [16, 16L], sep_patches, word_starts).
    attention_mask: float32 [L]. patch / word: token classification, the explained patch and word index.
    """

    values: np.ndarray
    method: str
    read_out: str
    label: str
    label_id: int
    probability: float | None
    text: Any
    encoding: Encoding
    attention_mask: np.ndarray
    patch: int | None = None
    word: int | None = None


@dataclass(frozen=True)
class _Target:
    """What to explain in one copy of the strip: a patch (token classification) and a label (None = argmax)."""

    patch: int | None = None
    label_id: int | None = None
    word: int | None = None


def relevance(model: nn.Module, renderer: Any, text: Any, *, method: str = "chefer", label: str | int | None = None,
              word: int | None = None, patch: int | None = None) -> Relevance:
    """The relevance map of ``model``'s prediction for ``text``.

    model: a `PIXELForSequenceClassification` (any pooling) or `PIXELForTokenClassification`. text: what the
    renderer draws (a string, a (text, pair) tuple, or for token classification a list of words or a string
    split at spaces). label: the label (name or id) to explain; default the predicted one. word / patch
    (token classification, one of them): the word (its first patch) or patch whose label is explained.
    """
    if check_explainable(model) == "sequence":
        if word is not None or patch is not None:
            raise ValueError("word / patch choose a position of a token classifier; a sequence classifier has "
                             "one prediction per text")
        return _explain(model, text, renderer(text), [_Target(label_id=_label_id(model, label))], method)[0]
    text = _words(text)
    encoding = renderer(text)
    if (word is None) == (patch is None):
        raise ValueError("a token classifier predicts one label per word: pass word=INDEX or patch=INDEX "
                         "(or use word_relevances for every word)")
    if word is not None:
        patch = _word_patch(encoding, word)
    elif not 0 <= patch < int(encoding.attention_mask.sum()):
        raise ValueError(f"patch {patch} is outside the text patches 0-{int(encoding.attention_mask.sum()) - 1}")
    return _explain(model, text, encoding, [_Target(patch, _label_id(model, label), word)], method)[0]


def word_relevances(model: nn.Module, renderer: Any, words: str | Sequence[str], *, method: str = "chefer",
                    batch_size: int = 8) -> list[Relevance]:
    """A token classifier's relevance map for the predicted label of each rendered word (read at the word's
    first patch), ``batch_size`` copies of the strip per backward pass."""
    if check_explainable(model) != "token":
        raise ValueError("word_relevances explains token classifiers (POS, NER); use relevance for a sequence "
                         "classifier")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    words = _words(words)
    encoding = renderer(words)
    targets = [_Target(_word_patch(encoding, w), None, w) for w in range(len(encoding.word_starts or [0]) - 1)]
    maps: list[Relevance] = []
    for start in range(0, len(targets), batch_size):
        maps.extend(_explain(model, words, encoding, targets[start : start + batch_size], method))
    return maps


# ---------------------------------------------------------------------------------------------------- checks


def check_explainable(model: nn.Module) -> str:
    """"sequence" (a sequence classifier) or "token" (a token classifier); a ValueError saying why for any other
    model."""
    from pixel.model.heads import PIXELForSequenceClassification, PIXELForTokenClassification

    if isinstance(model, PIXELForSequenceClassification):
        return "sequence"
    if isinstance(model, PIXELForTokenClassification):
        return "token"
    name = type(model).__name__
    why = {"PIXELForQuestionAnswering": " (question answering scores answer spans, not one label)",
           "PIXELForBiaffineParsing": " (parsing scores pairs of words, not one label)"}.get(name, "")
    raise ValueError(f"explain supports sequence classification (mean, max, cls, pmaK pooling) and token "
                     f"classification (POS, NER) models, not {name}{why}")


def _words(text: str | Sequence[str]) -> list[str]:
    words = text.split() if isinstance(text, str) else list(text)
    if not words:
        raise ValueError(f"input {text!r} has no words")
    return words


def _word_patch(encoding: Encoding, word: int) -> int:
    rendered = len(encoding.word_starts or [0]) - 1
    if not 0 <= word < rendered:
        raise ValueError(f"word {word} is not one of the {rendered} rendered words (0-{rendered - 1}); a full "
                         "strip drops the words after it")
    return encoding.word_starts[word]


def _label_id(model: nn.Module, label: str | int | None) -> int | None:
    if label is None:
        return None
    names = {str(name): int(index) for index, name in model.config.id2label.items()}
    if isinstance(label, str) and label in names:
        return names[label]
    if isinstance(label, int) and 0 <= label < model.num_labels:
        return label
    raise ValueError(f"label {label!r} is not a label of the model; its labels: {', '.join(names)}")


# ---------------------------------------------------------------------------------------------------- maps


def chefer_rollout(attentions: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor]) -> torch.Tensor:
    """attentions, gradients: per layer [B, H, T, T] -> R [B, T, T]: R = I, then per layer
    R = R + mean_h(clamp(gradient * attention, 0)) @ R."""
    batch, _, tokens, _ = attentions[0].shape
    rollout = torch.eye(tokens, device=attentions[0].device).expand(batch, tokens, tokens)
    for attention, gradient in zip(attentions, gradients, strict=True):
        cam = (gradient.float() * attention.float()).clamp(min=0).mean(dim=1)
        rollout = rollout + cam @ rollout
    return rollout


def _explain(model: nn.Module, text: Any, encoding: Encoding, targets: list[_Target], method: str) -> list[Relevance]:
    """One forward and one backward pass over len(targets) copies of the strip, one target each."""
    from pixel.render.batch import collate, to_model_inputs

    if method not in METHODS:
        raise ValueError(f"method {method!r} is unknown; choose one of {', '.join(METHODS)}")
    device = next(model.parameters()).device
    batch = collate([encoding] * len(targets))
    pixel_values = to_model_inputs(batch["pixel_values"], device).requires_grad_(True)
    attention_mask = batch["attention_mask"].to(device)
    captured: dict[str, Any] = {}
    hooks = [model.vit.embeddings.patch_embeddings.register_forward_hook(
        lambda module, args, output: captured.__setitem__("embeddings", output))]
    pooler = getattr(model, "pooler", None)
    if pooler is not None and pooler.kind != "cls":
        hooks.append(pooler.register_forward_hook(lambda module, args, output: captured.__setitem__("pooled", args)))
    rows = torch.arange(len(targets), device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            output = model(pixel_values, attention_mask=attention_mask, output_attentions=True)
            logits = output.logits.float()  # [N, C], or [N, L, C] for token classification
            if targets[0].patch is not None:
                logits = logits[rows, torch.tensor([t.patch for t in targets], device=device)]
            label_ids = logits.argmax(-1)
            for row, target in enumerate(targets):
                if target.label_id is not None:
                    label_ids[row] = target.label_id
            score = logits[rows, label_ids].sum()  # the copies are independent: one backward for all
            if method == "gradient":
                embeddings = captured["embeddings"]
                (gradient,) = torch.autograd.grad(score, embeddings)
                values = (gradient * embeddings).sum(-1).abs()
            else:
                if not output.attentions:
                    raise ValueError(f"{type(model).__name__} returned no attention probabilities with "
                                     "output_attentions=True; the chefer method needs them (use --method gradient)")
                gradients = torch.autograd.grad(score, output.attentions)
                values = _read_out(chefer_rollout(output.attentions, gradients), targets, pooler,
                                   captured.get("pooled"))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    values = (values.detach() * attention_mask).float().cpu().numpy()
    probabilities = None if model.num_labels == 1 else logits.detach().softmax(-1)[rows, label_ids].cpu().numpy()
    names = model.config.id2label
    pooling = "cls" if pooler is None or pooler.kind == "cls" else model.config.pooling_mode
    mask = attention_mask[0].cpu().numpy()
    maps = []
    for row, target in enumerate(targets):
        label_id = int(label_ids[row])
        maps.append(Relevance(
            values=values[row], method=method, read_out=pooling if target.patch is None else f"patch {target.patch}",
            label=str(names.get(label_id, label_id)), label_id=label_id,
            probability=None if probabilities is None else float(probabilities[row]), text=text, encoding=encoding,
            attention_mask=mask, patch=target.patch, word=target.word))
    return maps


def _read_out(rollout: torch.Tensor, targets: list[_Target], pooler: nn.Module | None,
              pooled_inputs: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    """Rows of R [N, T, T] that the classifier reads -> [N, L] relevance of the patches (see the module doc)."""
    patches = rollout[:, :, 1:]
    if targets[0].patch is not None:
        rows = torch.arange(len(targets), device=rollout.device)
        return patches[rows, 1 + torch.tensor([t.patch for t in targets], device=rollout.device)]
    if pooler is None or pooler.kind == "cls":
        return patches[:, 0]
    hidden, mask = pooled_inputs
    weights = pooler.patch_weights(hidden.detach(), mask)  # [N, L]
    return (weights.unsqueeze(1).float() @ patches[:, 1:]).squeeze(1)
