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

# run NAME TASK DATA_SUBDIR TRAIN DEV TEST STEPS [EXTRA...]: one fine-tuning run (replacing an earlier one of the
# same name), log in $OUT/NAME.log; a failure prints the command and the log's tail, and stops the script.
run() {
  name=$1 task=$2 dir=$DATA/$3 train=$4 dev=$5 test=$6 steps=$7
  shift 7
  set -- $PIXEL finetune "$task" --model "$MODEL" --train "$dir/$train" --validation "$dir/$dev" \
    --test "$dir/$test" --output_dir "$OUT/$name" --overwrite_output_dir $COMMON --max_steps "$steps" \
    --eval_every "$steps" --save_every "$steps" "$@"
  if ! "$@" > "$OUT/$name.log" 2>&1; then
    echo "$name failed: $*" >&2
    echo "last lines of $OUT/$name.log:" >&2
    tail -n 20 "$OUT/$name.log" >&2
    exit 1
  fi
  echo "$name: $OUT/$name/results.json"
}

run turkish-pos pos turkish tr-train.conllu tr-dev.conllu tr-test.conllu 40
run turkish-parsing parsing turkish tr-train.conllu tr-dev.conllu tr-test.conllu 40
run wnut16-ner ner wnut16 train.txt dev.txt test.txt 50
run bbc-classification classification bbc train.jsonl dev.jsonl test.jsonl 50 \
  --text_column text --glue_strip_spaces false --metric_for_best_model accuracy
echo "done: $OUT/*/results.json"
