"""`pixel demo`: render a multilingual sample and write one picture per sample plus an overview (which starts
with one sentence in each of the four renderings, one under the other); then let the shipped model
(models/pixel-tiny) reconstruct masked patches of a multilingual strip.

Each step is one function (samples -> encodings -> pictures -> reconstruction).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

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


# Drawn in every rendering (pixel.render.structured.RENDERINGS) at the top of overview.png.
RENDERINGS_SAMPLE = "My cat loves oatmeal. PIXEL reads text as pixels."

# One strip in the five languages pixel-tiny was trained on (none of these sentences is in its corpus).
RECONSTRUCTION_SAMPLE = (
    "PIXEL reads text as pictures and needs no vocabulary at all. Jede Sprache, die sich zeichnen lässt, kann "
    "es lesen. Lee el texto como una imagen, sin tokens. Ogni lingua che si può scrivere si legge così. "
    "Модель читает текст как картинку."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", default="demo-output", help="folder for the pictures (created)")
    parser.add_argument("--scale", type=int, default=4, help="upscaling of the pictures (default 4)")


def render_samples(renderer: TextRenderer, samples: dict[str, Sample]) -> dict[str, Encoding]:
    """Render every sample; keys are the sample names."""
    return {name: renderer(sample) for name, sample in samples.items()}


def overview_picture(pictures: dict[str, np.ndarray], gap: int = 8) -> np.ndarray:
    """Stack labelled pictures (uint8 [H, W, 3]) vertically on white: uint8 [H_total, W_max, 3]."""
    import numpy as np
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


def render_renderings(text: str) -> dict[str, Encoding]:
    """``text`` in each rendering; keys "rendering=NAME"."""
    from pixel.render.pangocairo import PangoCairoTextRenderer
    from pixel.render.structured import RENDERINGS

    return {f"rendering={name}": PangoCairoTextRenderer(rendering=name)(text) for name in RENDERINGS}


def gridded(encoding: Encoding, scale: int) -> np.ndarray:
    """The encoding cropped to its text, upscaled, with the patch grid: uint8 [H, W, 3]."""
    from pixel.render.picture import crop_to_text, draw_patch_grid

    return draw_patch_grid(crop_to_text(encoding), encoding.pixel_values.shape[0], encoding.sep_patches, scale)


def write_pictures(encodings: dict[str, Encoding], output_dir: Path, scale: int,
                   renderings: dict[str, Encoding] | None = None) -> list[Path]:
    """One gridded picture per encoding and ``overview.png`` (``renderings`` first, then every encoding);
    returns the files."""
    from pixel.render.picture import save_png

    pictures = {name: gridded(encoding, scale) for name, encoding in encodings.items()}
    written = [save_png(picture, output_dir / f"{name}.png") for name, picture in pictures.items()]
    shown = {name: gridded(encoding, scale) for name, encoding in (renderings or {}).items()} | pictures
    written.append(save_png(overview_picture(shown), output_dir / "overview.png"))
    return written


def write_reconstruction(model_dir: Path, output_dir: Path) -> tuple[Path, float]:
    """Mask single patches of RECONSTRUCTION_SAMPLE (25 %, as the model was trained), let the model fill them
    in, write ``reconstruction.png``; returns (file, reconstruction loss)."""
    import numpy as np

    from pixel.model.pixel import PIXELForPreTraining
    from pixel.render.folder import load_renderer
    from pixel.render.picture import save_png
    from pixel.viz import reconstruct

    model = PIXELForPreTraining.from_pretrained(model_dir)
    image, loss, _details = reconstruct(
        model, load_renderer(model_dir), RECONSTRUCTION_SAMPLE, max_span_length=1, seed=0,
        caption=f"Model: {model_dir.name} (models/pixel-tiny/README.md)", patches_per_line=64, scale=2,
    )
    return save_png(np.asarray(image), output_dir / "reconstruction.png"), loss


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
    renderings = render_renderings(RENDERINGS_SAMPLE)
    for name, encoding in renderings.items():
        print(f"{name:>20}: {encoding.num_text_patches:3d} text patches of {RENDERINGS_SAMPLE!r}")
    for path in write_pictures(encodings, output_dir, args.scale, renderings):
        print(f"wrote {path}")

    from pixel.cli.reconstruct import SHIPPED_MODEL, shipped_model

    model_dir = shipped_model()
    if model_dir is None:
        print(f"no reconstruction: the shipped model {SHIPPED_MODEL} is not there (it comes with a clone of the "
              "repository); `pixel reconstruct TEXT --model DIR` works with any pretraining model")
        return 0
    path, loss = write_reconstruction(model_dir, output_dir)
    print(f"wrote {path} (pixel-tiny filled in 25 % masked patches; reconstruction loss {loss:.3f})")
    return 0
