"""bf16 against fp32 pretraining: the loss curves of two short runs of the tiny recipe that differ only in
``precision`` (issue 12, item 2: a recipe gets ``precision: bf16`` only where the curves are indistinguishable).

Both runs use configs/pretrain/tiny-cpu.yaml with the same seed, the same corpus (English prose available
offline, cut into 30-word lines by this script) and the same data order; only a shorter warm-up (10 % of the
steps) and no checkpoints. Prints, per precision: the training loss (mean of the last quarter of the steps),
the validation losses, strips/s; and the gap between the two smoothed curves against the step-to-step noise of
one curve. Draws both curves (raw and a moving average; validation losses as dots) into a PNG.

    python benchmarks/precision_curves.py [--steps 300] [--output docs/img/bf16-vs-fp32.png]
    python benchmarks/precision_curves.py --smoke --output /tmp/curves.png   # 6 steps: checks the script
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MKL_DYNAMIC", "FALSE")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pretrain import ROOT  # noqa: E402

from render import WORDS_PER_TEXT, english_prose  # noqa: E402

PRECISIONS = ("fp32", "bf16")
COLOURS = {"fp32": (31, 119, 180), "bf16": (255, 127, 14)}
SMOOTHING = 9  # logged points per moving average


def write_corpus(folder: Path, validation_lines: int = 200) -> tuple[Path, Path]:
    words = [word for word in english_prose().split() if word.isprintable()]
    lines = [" ".join(words[i : i + WORDS_PER_TEXT]) for i in range(0, len(words) - WORDS_PER_TEXT, WORDS_PER_TEXT)]
    train, validation = folder / "train.txt", folder / "validation.txt"
    validation.write_text("\n".join(lines[:validation_lines]) + "\n", encoding="utf-8")
    train.write_text("\n".join(lines[validation_lines:]) + "\n", encoding="utf-8")
    return train, validation


def train(precision: str, train_file: Path, validation_file: Path, steps: int, folder: Path, log_every: int) -> dict:
    from pixel.pretrain.config import PretrainConfig
    from pixel.pretrain.task import PretrainingTask, build_model, build_renderer
    from pixel.train.config import load_config
    from pixel.train.metrics import read_metrics
    from pixel.train.trainer import Trainer

    overrides = {"train_files": f"[{train_file}]", "validation_files": f"[{validation_file}]",
                 "precision": precision, "max_steps": steps, "warmup_steps": max(1, steps // 10),
                 "log_every": log_every, "eval_every": max(1, steps // 4), "save_every": 0, "progress": "false",
                 "tensorboard": "false", "output_dir": str(folder / precision)}
    config = load_config(PretrainConfig, ROOT / "configs/pretrain/tiny-cpu.yaml",
                         [(k, str(v)) for k, v in overrides.items()])
    config.validate()
    task = PretrainingTask(config, build_model(config), build_renderer(config)[0])
    started = time.perf_counter()
    Trainer(task, config).train()
    wall = time.perf_counter() - started
    records = read_metrics(config.output_dir)
    losses = [(m["step"], m["loss"]) for m in records if "loss" in m]
    rates = [m["strips_per_s"] for m in records if "strips_per_s" in m][1:] or [0.0]
    return {"loss": losses, "val_loss": [(m["step"], m["val_loss"]) for m in records if "val_loss" in m],
            "strips_per_s": statistics.median(rates), "wall_s": wall}


def moving_average(values: list[float], window: int = SMOOTHING) -> list[float]:
    half = window // 2
    return [statistics.fmean(values[max(0, i - half) : i + half + 1]) for i in range(len(values))]


def compare(runs: dict[str, dict]) -> dict[str, float]:
    """The mean and largest gap between the smoothed curves (second half of the run), and the noise: the
    standard deviation of fp32's raw losses around its own moving average there."""
    a = [loss for _step, loss in runs["fp32"]["loss"]]
    b = [loss for _step, loss in runs["bf16"]["loss"]]
    count = min(len(a), len(b))
    start = count // 2
    smooth_a, smooth_b = moving_average(a[:count]), moving_average(b[:count])
    gaps = [abs(x - y) for x, y in zip(smooth_a[start:], smooth_b[start:], strict=True)]
    residuals = [x - s for x, s in zip(a[start:count], smooth_a[start:], strict=True)]
    noise = statistics.pstdev(residuals) if len(residuals) > 1 else 0.0
    return {"mean_gap": statistics.fmean(gaps) if gaps else 0.0, "max_gap": max(gaps, default=0.0), "noise": noise}


def draw(runs: dict[str, dict], title: str, output: Path) -> None:
    from PIL import Image, ImageDraw

    from pixel.viz import caption_font

    width, height, left, right, top, bottom = 900, 520, 70, 20, 50, 60
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    font, small = caption_font(15), caption_font(12)
    points = [p for run in runs.values() for p in run["loss"] + run["val_loss"]]
    max_step = max(step for step, _ in points)
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    low, high = low - 0.05 * span, high + 0.05 * span

    def xy(step: float, value: float) -> tuple[float, float]:
        return (left + (width - left - right) * step / max_step,
                top + (height - top - bottom) * (high - value) / (high - low))

    pen.rectangle([left, top, width - right, height - bottom], outline=(0, 0, 0))
    for i in range(6):
        value = low + (high - low) * i / 5
        y = xy(0, value)[1]
        pen.line([left - 4, y, left, y], fill=(0, 0, 0))
        pen.text((left - 8, y), f"{value:.3f}", fill=(0, 0, 0), font=small, anchor="rm")
        step = max_step * i / 5
        x = xy(step, low)[0]
        pen.line([x, height - bottom, x, height - bottom + 4], fill=(0, 0, 0))
        pen.text((x, height - bottom + 8), f"{step:.0f}", fill=(0, 0, 0), font=small, anchor="mt")
    pen.text((width / 2, height - 18), "step", fill=(0, 0, 0), font=font, anchor="mm")
    pen.text((left, 18), title, fill=(0, 0, 0), font=font, anchor="lm")
    for name, run in runs.items():
        colour = COLOURS[name]
        faint = tuple(int(c + (255 - c) * 0.6) for c in colour)
        steps = [step for step, _ in run["loss"]]
        values = [value for _, value in run["loss"]]
        pen.line([xy(s, v) for s, v in zip(steps, values, strict=True)], fill=faint, width=1)
        pen.line([xy(s, v) for s, v in zip(steps, moving_average(values), strict=True)], fill=colour, width=3)
        for step, value in run["val_loss"]:
            x, y = xy(step, value)
            pen.ellipse([x - 5, y - 5, x + 5, y + 5], outline=colour, width=2)
    for i, name in enumerate(runs):
        x, y = width - right - 330, top + 20 + 22 * i
        pen.line([x, y, x + 30, y], fill=COLOURS[name], width=3)
        pen.text((x + 38, y), f"{name}: training loss (moving average); o validation", fill=(0, 0, 0),
                 font=small, anchor="lm")
    output.parent.mkdir(parents=True, exist_ok=True)
    image.save(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="training steps per precision")
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--output", type=Path, help="PNG of both curves (default: none)")
    parser.add_argument("--smoke", action="store_true", help="6 steps, logged every step: checks the script")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.log_every = 6, 1
    if args.steps < 4 or args.log_every < 1:
        parser.error("--steps must be >= 4 and --log-every >= 1")

    import torch

    from pixel import runtime

    print(f"torch {torch.__version__} | tiny recipe (configs/pretrain/tiny-cpu.yaml) | {args.steps} steps per "
          f"precision | native bf16 on this CPU: {runtime.native_bf16('cpu')} | load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        train_file, validation_file = write_corpus(folder)
        runs = {precision: train(precision, train_file, validation_file, args.steps, folder, args.log_every)
                for precision in PRECISIONS}
    for name, run in runs.items():
        tail = [loss for _, loss in run["loss"]][-max(1, len(run["loss"]) // 4):]
        validation = ", ".join(f"{step}: {value:.4f}" for step, value in run["val_loss"])
        print(f"{name}: training loss (last quarter, mean) {statistics.fmean(tail):.4f} | validation loss "
              f"{validation} | {run['strips_per_s']:.1f} strips/s | {run['wall_s']:.0f} s")
    gaps = compare(runs)
    print(f"smoothed curves (second half, moving average of {SMOOTHING} logged points): mean gap "
          f"{gaps['mean_gap']:.4f}, largest {gaps['max_gap']:.4f}; step-to-step noise of fp32 (std) "
          f"{gaps['noise']:.4f}: gap / noise {gaps['mean_gap'] / gaps['noise'] if gaps['noise'] else float('nan'):.2f}")
    if args.output:
        draw(runs, f"tiny recipe, {args.steps} steps: bf16 autocast vs fp32 (same seed, data, order)", args.output)
        print(f"curves written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
