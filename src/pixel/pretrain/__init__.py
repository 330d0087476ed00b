"""Pretraining, one more task of the trainer: ``config`` (the settings of a run), ``task`` (its model,
renderer, data and pictures; the zero-prediction baseline), ``run`` (``pretrain(config, resume)``, the
function behind ``pixel pretrain``). The stream of rendered, masked text is ``pixel.data.pretraining``.
Nothing is imported here, so ``import pixel.pretrain`` stays light.
"""
