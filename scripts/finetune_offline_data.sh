#!/bin/sh
# Fine-tune a small PIXEL model on the four offline data sets (docs/data-sources.md), one after the other,
# with short CPU budgets; the numbers go into docs/results.md.
#   sh scripts/finetune_offline_data.sh models/pixel-tiny data runs/offline
# data/ is the output folder of scripts/prepare_offline_data.py. Each run leaves <out>/<name>/results.json
# (validation = best checkpoint on dev, test) and <out>/<name>.log.
set -eu
MODEL=${1:-models/pixel-tiny}
DATA=${2:-data}
OUT=${3:-runs/offline}
PIXEL=${PIXEL:-pixel}
mkdir -p "$OUT"
# Shared short-budget settings (the recipes' 15k steps at batch 64 need a GPU): L 128 as the model was
# pretrained, batch 16, learning rate 5e-4 with 5 warm-up steps and linear decay, one dev evaluation at the end,
# fixed seed.
COMMON="--max_seq_length 128 --batch_size 16 --learning_rate 5e-4 --warmup_steps 5 --early_stopping_patience 0 \
--seed 42 --device cpu --progress false"

$PIXEL finetune pos --model "$MODEL" --train "$DATA/turkish/tr-train.conllu" \
  --validation "$DATA/turkish/tr-dev.conllu" --test "$DATA/turkish/tr-test.conllu" \
  --output_dir "$OUT/turkish-pos" $COMMON --max_steps 40 --eval_every 40 --save_every 40 \
  > "$OUT/turkish-pos.log" 2>&1
$PIXEL finetune parsing --model "$MODEL" --train "$DATA/turkish/tr-train.conllu" \
  --validation "$DATA/turkish/tr-dev.conllu" --test "$DATA/turkish/tr-test.conllu" \
  --output_dir "$OUT/turkish-parsing" $COMMON --max_steps 40 --eval_every 40 --save_every 40 \
  > "$OUT/turkish-parsing.log" 2>&1
$PIXEL finetune ner --model "$MODEL" --train "$DATA/wnut16/train.txt" \
  --validation "$DATA/wnut16/dev.txt" --test "$DATA/wnut16/test.txt" \
  --output_dir "$OUT/wnut16-ner" $COMMON --max_steps 50 --eval_every 50 --save_every 50 \
  > "$OUT/wnut16-ner.log" 2>&1
$PIXEL finetune classification --model "$MODEL" --train "$DATA/bbc/train.jsonl" \
  --validation "$DATA/bbc/dev.jsonl" --test "$DATA/bbc/test.jsonl" \
  --output_dir "$OUT/bbc-classification" $COMMON --text_column text --glue_strip_spaces false \
  --metric_for_best_model accuracy --max_steps 50 --eval_every 50 --save_every 50 \
  > "$OUT/bbc-classification.log" 2>&1
echo "done: $OUT/*/results.json"
