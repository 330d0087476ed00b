"""Fine-tuning and prediction throughput on this machine (issue 5, item 6).

For a small model (models/pixel-tiny when present, else the tiny-cpu pretraining config's size, random weights)
and for pixel-base size (random weights):
1. fine-tuning steps/s and strips/s of POS tagging (word-list rendering done once up front, as `pixel finetune`
   does; the first 2 steps are warm-up and not counted);
2. prediction throughput in strips/s, batched, rendering included (POS word lists and classification texts),
   as `pixel predict` / `pixel evaluate` run it.

    python benchmarks/finetune.py [--steps 8] [--base-steps 3] [--batch 8] [--length 128] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MKL_DYNAMIC", "FALSE")

ROOT = Path(__file__).resolve().parents[1]
WARMUP_STEPS = 2
WORDS = ("pixel language model render text image patch strip mask train learn token font glyph the a of and "
         "Wort Sprache Bild texte langue modèle слово язык").split()
TAGS = ("NOUN", "VERB", "DET", "ADJ", "PUNCT")


def synthetic_conllu(path: Path, sentences: int, rng: random.Random) -> Path:
    blocks = []
    for _ in range(sentences):
        n = rng.randint(4, 20)
        blocks.append("\n".join(f"{i}\t{rng.choice(WORDS)}\t_\t{rng.choice(TAGS)}\t_\t_\t{0 if i == 1 else 1}"
                                f"\t{'root' if i == 1 else 'dep'}\t_\t_" for i in range(1, n + 1)))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def model_folder(folder: Path, settings: dict | None, length: int) -> Path:
    """A pretraining model folder (random weights at ``settings``) with a PangoCairo renderer of ``length``."""
    from pixel.model.config import PIXELConfig
    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.pangocairo import PangoCairoTextRenderer

    PIXELForPreTraining(PIXELConfig(**(settings or {}), image_size=[16, 16 * length])).save_pretrained(folder)
    PangoCairoTextRenderer(max_seq_length=length).save_pretrained(folder)
    return folder


def small_model(work: Path, length: int) -> tuple[Path, str]:
    shipped = ROOT / "models" / "pixel-tiny"
    if (shipped / "model.safetensors").is_file():
        return shipped, "models/pixel-tiny"
    import yaml

    settings = yaml.safe_load((ROOT / "configs" / "pretrain" / "tiny-cpu.yaml").read_text())["model"]
    return model_folder(work / "small", settings, length), "tiny-cpu size (random weights)"


def finetune_speed(model: Path, train: Path, work: Path, steps: int, batch: int, length: int, device: str) -> dict:
    from pixel.finetune.config import PosConfig
    from pixel.finetune.run import finetune
    from pixel.train.metrics import read_metrics

    out = work / f"pos-{model.name}"
    config = PosConfig(model=str(model), train=str(train), output_dir=str(out), max_steps=steps,
                       batch_size=batch, max_seq_length=length, early_stopping_patience=0, eval_every=0,
                       save_every=0, log_every=1, device=device, progress=False, warmup_steps=1)
    finetune(config)
    records = [m for m in read_metrics(out) if "loss" in m][WARMUP_STEPS:]
    seconds = sum(batch / m["strips_per_s"] for m in records)
    return {"steps_per_s": len(records) / seconds, "strips_per_s": len(records) * batch / seconds,
            "counted_steps": len(records)}


def predict_speed(model_dir: Path, texts: list, family_name: str, batch: int, device: str) -> float:
    """Strips/s of predict_examples (rendering + forward + decoding) with a freshly initialised head."""
    import torch

    from pixel.data.tasks.classification import ClassificationExample
    from pixel.data.tasks.conllu import ConlluSentence
    from pixel.data.tasks.labels import LabelVocabulary
    from pixel.finetune.base import predict_examples
    from pixel.finetune.model_folder import load_task_renderer, make_family, model_class

    family = make_family(family_name, {})
    labels = list(TAGS) if family_name == "pos" else ["negative", "positive"]
    vocabulary = LabelVocabulary(labels)
    model = model_class(family).from_pretrained(str(model_dir), id2label=dict(enumerate(labels))).to(device)
    renderer = load_task_renderer(str(model_dir), model.config.num_patches)
    if family_name == "pos":
        examples = [ConlluSentence(words=t.split(), upos=[], heads=[], relations=[]) for t in texts]
    else:
        examples = [ClassificationExample(text=t) for t in texts]
    predict_examples(model, family, examples[:batch], renderer, vocabulary, device, batch, with_targets=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    predict_examples(model, family, examples, renderer, vocabulary, device, batch, with_targets=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return len(examples) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--base-steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128, help="max_seq_length (patches)")
    parser.add_argument("--predict-texts", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-base", action="store_true")
    args = parser.parse_args()
    import torch

    rng = random.Random(0)
    results = {"device": args.device, "threads": torch.get_num_threads(), "max_seq_length": args.length,
               "batch": args.batch}
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 20))) for _ in range(args.predict_texts)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        train = synthetic_conllu(work / "train.conllu", 200, rng)
        small, small_name = small_model(work, args.length)
        sizes = [("small", small, small_name, args.steps)]
        if not args.skip_base:
            sizes.append(("pixel-base", model_folder(work / "base", None, args.length), "pixel-base size "
                          "(random weights)", args.base_steps))
        for key, folder, name, steps in sizes:
            entry = {"model": name, **finetune_speed(folder, train, work, steps + WARMUP_STEPS, args.batch,
                                                     args.length, args.device)}
            for family in ("pos", "classification"):
                entry[f"predict_{family}_strips_per_s"] = predict_speed(folder, texts, family, 32, args.device)
            results[key] = entry
            print(f"{key:>10} ({name}): fine-tuning {entry['steps_per_s']:.2f} steps/s = "
                  f"{entry['strips_per_s']:.1f} strips/s (batch {args.batch}, L {args.length}); predict "
                  f"{entry['predict_pos_strips_per_s']:.1f} strips/s (POS word lists), "
                  f"{entry['predict_classification_strips_per_s']:.1f} strips/s (texts), batch 32", flush=True)
    if "pixel-base" in results:
        ratio = results["small"]["strips_per_s"] / results["pixel-base"]["strips_per_s"]
        print(f"small / pixel-base fine-tuning throughput: {ratio:.1f}x")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
