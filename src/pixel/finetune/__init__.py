"""Fine-tuning, evaluation and prediction for every PIXEL task family (classification, POS, NER, parsing,
QA): ``config`` (recipes), ``base`` (features, batches, the trainer's task), one module per family,
``model_folder`` (building and loading models), ``run`` (the functions behind the CLI). Nothing is imported
here, so ``import pixel.finetune`` stays light.
"""
