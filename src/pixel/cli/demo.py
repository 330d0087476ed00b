"""`pixel demo`: render a multilingual sample and write one picture per sample plus an overview.

Each step is one function (samples -> encodings -> pictures) so that later steps (e.g. reconstructions by a
shipped model) can add pictures of their own.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pixel.render.base import TextRenderer
    from pixel.render.encoding import Encoding

HELP = "render a multilingual sample and write pictures of the strips"

Sample = str | tuple[str, str] | list[str]

SAMPLES: dict[str, Sample] = {
    "english": "PIXEL reads text as pixels, with no vocabulary.",
    "russian": "Съешь же ещё этих мягких французских булок.",
    "greek": "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "arabic": "النص العربي يكتب من اليمين إلى اليسار.",
    "hebrew": "עברית נכתבת מימין לשמאל.",
    "hindi": "हिन्दी देवनागरी लिपि में लिखी जाती है।",
    "thai": "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "amharic": "አማርኛ በግዕዝ ፊደል ይጻፋል።",
    "chinese": "汉字是世界上最古老的文字之一。",
    "japanese": "日本語はひらがなとカタカナと漢字で書きます。",
    "emoji": "Pixels show emoji too 🙂🎉🌍",
    "pair": ("What is the capital of France?", "Paris is the capital of France."),
    "words": ["PIXEL", "starts", "every", "word", "on", "a", "new", "patch", "."],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", default="demo-output", help="folder for the pictures (created)")
    parser.add_argument("--scale", type=int, default=4, help="upscaling of the pictures (default 4)")


def render_samples(renderer: TextRenderer, samples: dict[str, Sample]) -> dict[str, Encoding]:
    """Render every sample; keys are the sample names."""
    return {name: renderer(sample) for name, sample in samples.items()}


def overview_picture(pictures: dict[str, np.ndarray], gap: int = 8) -> np.ndarray:
    """Stack labelled pictures (uint8 [H, W, 3]) vertically on white: uint8 [H_total, W_max, 3]."""
    from PIL import Image, ImageDraw

    label_height = 14
    width = max(picture.shape[1] for picture in pictures.values()) + 2 * gap
    height = sum(label_height + picture.shape[0] + gap for picture in pictures.values()) + gap
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    y = gap
    for name, picture in pictures.items():
        draw.text((gap, y), name, fill=(0, 0, 0))
        y += label_height
        canvas.paste(Image.fromarray(picture), (gap, y))
        y += picture.shape[0] + gap
    return np.asarray(canvas)


def write_pictures(encodings: dict[str, Encoding], output_dir: Path, scale: int) -> list[Path]:
    """One gridded picture per encoding (cropped to its text) and ``overview.png``; returns the files."""
    from pixel.render.picture import crop_to_text, draw_patch_grid, save_png

    pictures = {
        name: draw_patch_grid(crop_to_text(encoding), encoding.pixel_values.shape[0], encoding.sep_patches, scale)
        for name, encoding in encodings.items()
    }
    written = [save_png(picture, output_dir / f"{name}.png") for name, picture in pictures.items()]
    written.append(save_png(overview_picture(pictures), output_dir / "overview.png"))
    return written


def run(args: argparse.Namespace) -> int:
    from pixel.render.pangocairo import PangoCairoTextRenderer
    from pixel.render.picture import describe_chars

    if args.scale < 1:
        raise ValueError(f"--scale must be >= 1, got {args.scale}")
    output_dir = Path(args.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"--output-dir {output_dir} is a file, not a folder")
    output_dir.mkdir(parents=True, exist_ok=True)

    encodings = render_samples(PangoCairoTextRenderer(), SAMPLES)
    for name, encoding in encodings.items():
        note = f", unrenderable: {describe_chars(encoding.unrenderable_chars)}" if encoding.unrenderable_chars else ""
        print(f"{name:>9}: {encoding.num_text_patches:3d} text patches{note}")
    for path in write_pictures(encodings, output_dir, args.scale):
        print(f"wrote {path}")
    return 0
