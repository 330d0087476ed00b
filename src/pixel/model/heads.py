"""Task heads on the PIXEL encoder (spec 2.4, 2.5): sequence and token classification, extractive QA,
biaffine dependency parsing.

Every head wraps the encoder as `self.vit` (a `PIXELModel` with embedding dropout, as the original's ViT
fine-tuning network) and has the original's state-dict keys and shapes, so the Team-PIXEL fine-tuned
checkpoints load and our checkpoints load back into the original. Shapes: B batch, L patches of the strip,
D hidden size, C labels. Inputs: `pixel_values` [B, 3, 16, 16*L] in [0, 1]; `attention_mask` [B, L] float,
1 on the text patches (text + 1 end patch), None = all ones.

Parameters that the original carries but never uses (the `classifier` of QA and parsing, which they inherit
from transformers' image classifier; `pooler.linear` in CLS/PMA mode; `pooler.ln` without layer norm) are
kept so the keys match, and frozen so they get no gradient, optimizer state or weight decay.

Labels outside their range raise a ValueError naming the input (instead of a device-side assert or a NaN).
Losses average over the labelled items like the original; a batch without any (all ignored / padding) gets
a loss of 0 where the original returned NaN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pixel.model.biaffine import Biaffine
from pixel.model.config import IGNORE_INDEX, PIXELConfig
from pixel.model.outputs import ClassifierOutput, DependencyParsingModelOutput, QuestionAnsweringModelOutput
from pixel.model.pixel import PIXELModel, PIXELPreTrainedModel
from pixel.model.pooling import SequencePoolingHead, parse_pooling_mode

# ---------------------------------------------------------------------------------------------- checks


def _check_class_labels(labels: torch.Tensor, num_classes: int, name: str, allow_ignore: bool = True) -> None:
    """ValueError unless every entry is in [0, num_classes) (or IGNORE_INDEX when allowed)."""
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor of class indices, got dtype {labels.dtype}")
    valid = (labels >= 0) & (labels < num_classes)
    if allow_ignore:
        valid |= labels == IGNORE_INDEX
    if not bool(valid.all()):
        bad = labels[~valid].unique()[:5].tolist()
        allowed = f"[0, {num_classes - 1}]" + (f" or {IGNORE_INDEX} (ignored)" if allow_ignore else "")
        raise ValueError(f"{name} has values {bad} outside {allowed}; check num_labels / label mapping")


def _mean_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over targets != -100 (= F.cross_entropy), but 0 instead of NaN when none."""
    total = F.cross_entropy(logits, targets, ignore_index=IGNORE_INDEX, reduction="sum")
    return total / (targets != IGNORE_INDEX).sum().clamp(min=1)


def _patch_mask(attention_mask: torch.Tensor | None, patch_outputs: torch.Tensor) -> torch.Tensor:
    """attention_mask [B, L] or None -> float mask [B, L] on the outputs' device."""
    if attention_mask is None:
        return patch_outputs.new_ones(patch_outputs.shape[:2])
    return attention_mask.to(device=patch_outputs.device, dtype=patch_outputs.dtype)


class _FrozenUnusedLinear(nn.Linear):
    """A Linear the original checkpoints carry but never use; kept for identical keys, frozen."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - never called
        raise RuntimeError("this classifier exists only so that checkpoints keep the original's keys")


# ---------------------------------------------------------------------------------------------- heads


class PIXELForSequenceClassification(PIXELPreTrainedModel):
    """Sequence classification / regression (GLUE, XNLI...).

    pooling_mode: "mean" | "max" | "cls" | "pmaK"; None = the config's `pooling_mode`, else "mean".
    add_layer_norm: LayerNorm in the pooling head; None = the config's `add_layer_norm`, else True.
    Both are stored in the model's config (a copy of the one given), so a saved model loads back without
    arguments. The original did not store them: pass them when loading its checkpoints (e.g.
    pooling_mode="cls" adds `vit.pooler`).
    `config.num_labels` (from id2label) sets the classifier: 1 = regression, 0 = no classifier (features).
    """

    def __init__(
        self, config: PIXELConfig, pooling_mode: str | None = None, add_layer_norm: bool | None = None
    ) -> None:
        config = config.copy()  # the head's settings go into its own config, never into the caller's
        super().__init__(config)
        if pooling_mode is None:
            pooling_mode = getattr(config, "pooling_mode", None) or "mean"
        if add_layer_norm is None:
            add_layer_norm = getattr(config, "add_layer_norm", None)
            add_layer_norm = True if add_layer_norm is None else bool(add_layer_norm)
        kind, _ = parse_pooling_mode(pooling_mode)
        config.pooling_mode = pooling_mode.lower()
        config.add_layer_norm = add_layer_norm
        self.num_labels = config.num_labels
        self.vit = PIXELModel(config, add_pooling_layer=kind == "cls")
        self.classifier: nn.Module = (
            nn.Linear(config.hidden_size, self.num_labels) if self.num_labels > 0 else nn.Identity()
        )
        self.pooler = SequencePoolingHead(
            config.hidden_size,
            config.hidden_dropout_prob,
            pooling_mode=pooling_mode,
            add_layer_norm=add_layer_norm,
        )
        self.post_init()

    @property
    def pooling_mode(self) -> str:
        return self.config.pooling_mode

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ClassifierOutput:
        """labels: [B] int64 class indices (single label), [B] or [B, 1] float targets (regression,
        num_labels 1) or [B, C] float 0/1 (multi label). problem_type: `config.problem_type` when set, else
        chosen as the original does (and stored in the model's config): regression if num_labels == 1,
        single_label_classification for integer labels, multi_label_classification otherwise."""
        outputs = self.vit(
            pixel_values,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        if self.pooler.kind == "cls":
            features = self.pooler(outputs.pooler_output, None)
        else:
            patches = outputs.last_hidden_state[:, 1:]
            features = self.pooler(patches, _patch_mask(attention_mask, patches))
        logits = self.classifier(features)
        loss = None if labels is None else self._loss(logits, labels)
        return ClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.num_labels == 0:
            raise ValueError("labels given, but the model has num_labels 0 (no classifier): set num_labels")
        labels = labels.to(logits.device)
        batch = logits.shape[0]
        problem_type = getattr(self.config, "problem_type", None)
        if problem_type is None:
            if self.num_labels == 1:
                problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                problem_type = "single_label_classification"
            else:
                problem_type = "multi_label_classification"
            self.config.problem_type = problem_type
        if problem_type == "regression":
            if labels.numel() != logits.numel():
                raise ValueError(
                    f"labels for regression need {logits.numel()} values ([B] or [B, {self.num_labels}]), "
                    f"got shape {list(labels.shape)}"
                )
            return F.mse_loss(logits.reshape(-1), labels.reshape(-1).to(logits.dtype))
        if problem_type == "single_label_classification":
            if labels.numel() != batch:
                raise ValueError(
                    f"labels must hold one class index per example ([{batch}]), got {list(labels.shape)}"
                )
            _check_class_labels(labels, self.num_labels, "labels")
            return F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
        if problem_type == "multi_label_classification":
            if labels.shape != logits.shape:
                raise ValueError(
                    f"multi-label labels must have the logits' shape {list(logits.shape)} (0/1 per label), "
                    f"got {list(labels.shape)}"
                )
            if not bool(((labels >= 0) & (labels <= 1)).all()):
                raise ValueError("multi-label labels must lie in [0, 1]")
            return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        raise ValueError(
            f"config.problem_type {problem_type!r} is unknown; use regression, single_label_classification "
            "or multi_label_classification"
        )


class PIXELForTokenClassification(PIXELPreTrainedModel):
    """One label per patch (POS tagging, NER): dropout -> `classifier` Linear(D, C) on every patch output."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.vit = PIXELModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(config.hidden_size, self.num_labels)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> ClassifierOutput:
        """labels: [B, L] int64 class per patch, -100 = ignored (padding, non-first patches of a word)."""
        outputs = self.vit(
            pixel_values,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state[:, 1:]))
        loss = None
        if labels is not None:
            if labels.shape != logits.shape[:2]:
                raise ValueError(
                    f"labels must have shape {list(logits.shape[:2])} ([B, L]), got {list(labels.shape)}"
                )
            labels = labels.to(logits.device)
            _check_class_labels(labels, self.num_labels, "labels")
            loss = _mean_cross_entropy(logits.reshape(-1, self.num_labels), labels.reshape(-1))
        return ClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class PIXELForQuestionAnswering(PIXELPreTrainedModel):
    """Extractive QA: start/end scores over the L patches followed by the CLS output, appended LAST (index L =
    no answer), as the original. `qa_outputs` Linear(D, 2) without dropout. The original's unused
    `classifier` [2, D] is kept (frozen) so that the keys match both ways; a `vit.pooler` in a checkpoint is
    dropped silently (`_keys_to_ignore_on_load`)."""

    _keys_to_ignore_on_load = (r"^classifier\.", r"^vit\.pooler\.")

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        if self.num_labels != 2:
            raise ValueError(
                f"PIXELForQuestionAnswering needs num_labels 2 (start, end), config has {self.num_labels}"
            )
        self.vit = PIXELModel(config, add_pooling_layer=False)
        self.classifier = _FrozenUnusedLinear(config.hidden_size, self.num_labels)
        self.qa_outputs = nn.Linear(config.hidden_size, self.num_labels)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> QuestionAnsweringModelOutput:
        """start_positions / end_positions: [B] (or [B, 1]) int64 indices in [0, L] (L = no answer). As the
        original, positions are clamped to [0, L + 1] and L + 1 is ignored; if every position of the batch is
        ignored the loss is 0 (the original returned NaN)."""
        outputs = self.vit(
            pixel_values,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        hidden = outputs.last_hidden_state
        sequence = torch.cat([hidden[:, 1:], hidden[:, :1]], dim=1)  # [B, L + 1, D], CLS last
        start_logits, end_logits = self.qa_outputs(sequence).unbind(dim=-1)
        loss = None
        if start_positions is not None and end_positions is not None:
            ignored = start_logits.shape[1]
            losses = []
            for name, positions, logits in (
                ("start_positions", start_positions, start_logits),
                ("end_positions", end_positions, end_logits),
            ):
                if positions.dtype.is_floating_point or positions.numel() != logits.shape[0]:
                    raise ValueError(
                        f"{name} must be {logits.shape[0]} integer positions ([B]), got {positions.dtype} "
                        f"{list(positions.shape)}"
                    )
                positions = positions.reshape(-1).to(logits.device).clamp(0, ignored)
                targets = positions.masked_fill(positions == ignored, IGNORE_INDEX)
                losses.append(_mean_cross_entropy(logits, targets))
            loss = (losses[0] + losses[1]) / 2
        return QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits.contiguous(),
            end_logits=end_logits.contiguous(),
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


def pool_words(
    patch_outputs: torch.Tensor, word_starts: torch.Tensor, pad_id: int = IGNORE_INDEX
) -> torch.Tensor:
    """Mean patch output per word, vectorised, as the original's `_merge_subword_tokens`.

    patch_outputs: [B, L, D]; word_starts: [B, S] patch index where each word starts, then the end of the last
    word, padded with `pad_id` (any position; pads are dropped first). Word j = mean of patches
    [start_j, start_{j+1}) (the single patch start_j when both are equal); words stop at the first next start
    <= 0. Returns [B, L, D] with the words first and zero rows after them.
    """
    batch, length, _ = patch_outputs.shape
    if word_starts.dim() != 2 or word_starts.shape[0] != batch:
        raise ValueError(f"word_starts must be [B={batch}, S], got {list(word_starts.shape)}")
    if word_starts.shape[1] > length + 1:
        raise ValueError(f"word_starts has {word_starts.shape[1]} entries, at most L + 1 = {length + 1} fit")
    word_starts = word_starts.to(patch_outputs.device).long()
    is_pad = word_starts == pad_id
    order = torch.sort(is_pad.to(torch.int8), dim=1, stable=True).indices  # non-pad entries first, in order
    starts = word_starts.gather(1, order)
    num_entries = (~is_pad).sum(1, keepdim=True)
    begin, end = starts[:, :-1], starts[:, 1:]
    index = torch.arange(begin.shape[1], device=starts.device)
    is_word = ((index < num_entries - 1) & (end > 0)).cumprod(dim=1).bool()
    if bool((is_word & ((begin < 0) | (begin >= length) | (end < begin))).any()):
        raise ValueError(
            f"word_starts must be non-decreasing patch indices with starts in [0, L - 1 = {length - 1}] "
            f"(padding {pad_id})"
        )
    end = torch.where(end == begin, begin + 1, end)
    positions = torch.arange(length, device=starts.device)
    inside = (positions >= begin.unsqueeze(-1)) & (positions < end.unsqueeze(-1)) & is_word.unsqueeze(-1)
    weights = inside.to(patch_outputs.dtype)
    weights = weights / weights.sum(-1, keepdim=True).clamp(min=1)
    words = weights @ patch_outputs  # [B, S - 1, D]
    return F.pad(words, (0, 0, 0, length - words.shape[1]))


class PIXELForBiaffineParsing(PIXELPreTrainedModel):
    """Dependency parsing (UD): word vectors = mean of their patch outputs, ROOT = the encoder's pooler output;
    `biaffine_arcs` (bias on dependents) scores heads, `biaffine_rels` (num_labels relations) labels them.
    The original's unused `classifier` [R, D] is kept (frozen) so that the keys match both ways.
    Padding of word_starts / arc_labels / rel_labels: `config.pad_token_id` (-100 when unset)."""

    _keys_to_ignore_on_load = (r"^classifier\.",)

    def __init__(self, config: PIXELConfig) -> None:
        config = config.copy()  # pad_token_id goes into the head's own config, never into the caller's
        super().__init__(config)
        self.num_labels = config.num_labels
        if getattr(config, "pad_token_id", None) is None:
            config.pad_token_id = IGNORE_INDEX
        self.vit = PIXELModel(config, add_pooling_layer=True)
        self.classifier = _FrozenUnusedLinear(config.hidden_size, self.num_labels)
        self.biaffine_arcs = Biaffine(config.hidden_size, n_out=1, bias_x=True, bias_y=False)
        self.biaffine_rels = Biaffine(config.hidden_size, n_out=self.num_labels, bias_x=True, bias_y=True)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        word_starts: torch.Tensor | None = None,
        arc_labels: torch.Tensor | None = None,
        rel_labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> DependencyParsingModelOutput:
        """word_starts: [B, S <= L + 1] (see `pool_words`); arc_labels: [B, L] gold head per word (0 = ROOT,
        j = word j - 1), rel_labels: [B, L] gold relation, both padded with pad_token_id."""
        if word_starts is None:
            raise ValueError(
                "PIXELForBiaffineParsing needs word_starts ([B, S] patch index of each word start)"
            )
        outputs = self.vit(
            pixel_values,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        pad_id = self.config.pad_token_id
        patches = self.dropout(outputs.last_hidden_state[:, 1:])
        dependents = pool_words(patches, word_starts, pad_id)  # [B, L, D]
        heads = torch.cat([outputs.pooler_output.unsqueeze(1), dependents], dim=1)  # [B, L + 1, D]
        arc_logits = self.biaffine_arcs(dependents, heads).squeeze(1)  # [B, L, L + 1]
        rel_logits = self.biaffine_rels(dependents, heads).permute(0, 2, 3, 1)  # [B, L, L + 1, R]
        loss = None
        if arc_labels is not None and rel_labels is not None:
            loss = self._loss(arc_logits, rel_logits, arc_labels, rel_labels, pad_id)
        return DependencyParsingModelOutput(
            loss=loss,
            arc_logits=arc_logits,
            rel_logits=rel_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )

    def _loss(
        self,
        arc_logits: torch.Tensor,
        rel_logits: torch.Tensor,
        arc_labels: torch.Tensor,
        rel_labels: torch.Tensor,
        pad_id: int,
    ) -> torch.Tensor:
        expected = list(arc_logits.shape[:2])
        for name, labels in (("arc_labels", arc_labels), ("rel_labels", rel_labels)):
            if list(labels.shape) != expected:
                raise ValueError(f"{name} must have shape {expected} ([B, L]), got {list(labels.shape)}")
        arc_labels = arc_labels.to(arc_logits.device)
        rel_labels = rel_labels.to(arc_logits.device)
        words = arc_labels != pad_id
        arcs, rels = arc_labels[words], rel_labels[words]
        _check_class_labels(
            arcs, arc_logits.shape[-1], "arc_labels (head index, 0 = ROOT)", allow_ignore=False
        )
        _check_class_labels(rels, self.num_labels, "rel_labels (relation of a word with a head)")
        arc_loss = _mean_cross_entropy(arc_logits[words], arcs)
        rel_scores = rel_logits[words][torch.arange(arcs.shape[0], device=arcs.device), arcs]  # [N, R]
        rel_loss = _mean_cross_entropy(rel_scores, rels)  # -100 relations are ignored, as in the original
        return arc_loss + rel_loss
