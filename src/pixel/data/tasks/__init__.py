"""Fine-tuning task data: readers, input construction and metrics, one module per job.

``classification`` (CSV/TSV/JSON lines), ``conllu`` (POS, parsing), ``ner`` (CoNLL two-column), ``qa``
(SQuAD format, patch targets, answer post-processing), ``labels`` (vocabularies, unseen-label policy),
``alignment`` (word labels onto word-start patches, parsing targets; batches come from
``pixel.render.batch.collate``), ``metrics``. Nothing is imported here, so ``import pixel.data.tasks``
stays light; see docs/task-data.md.
"""
