"""Orthographic attacks (spec 3.5, after BERT-Defense): perturbed copies of task data for robustness checks.

``attacks`` (the ten attacks by name, severities, :class:`Attacker` for words and running text), ``perturb``
(what each attack does to one word), ``tables`` (the shipped look-up tables), ``files`` (attacked copies of
CoNLL-U, CoNLL NER, classification and SQuAD files), ``report`` (clean vs attacked table and bar chart),
``robustness`` (evaluating a fine-tuned model on attacked copies). See docs/research-tools.md.
"""

from .attacks import ATTACKS, DEFAULT_SEED, SEVERITIES, Attacker, attack_names, parse_severity
from .files import AttackSummary, attack_file

__all__ = ["ATTACKS", "DEFAULT_SEED", "SEVERITIES", "Attacker", "AttackSummary", "attack_file", "attack_names",
           "parse_severity"]
