"""pixel-lm: PIXEL (Pixel-based Encoder of Language) on a modern stack.

Public names are imported lazily so that `import pixel` stays light (no torch, no Pango) until a name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "Encoding": "pixel.render.encoding",
    "PangoCairoTextRenderer": "pixel.render.pangocairo",
    "TextRenderer": "pixel.render.base",
    "load_renderer": "pixel.render.folder",
    "PyGameTextRenderer": "pixel.render.pygame",
    "RenderedBatch": "pixel.render.batch",
    "render_batch": "pixel.render.batch",
    "to_model_inputs": "pixel.render.batch",
    "PIXELConfig": "pixel.model.config",
    "PIXELModel": "pixel.model.pixel",
    "PIXELForPreTraining": "pixel.model.pixel",
    "resize_position_embeddings": "pixel.model.resize",
    "PIXELForSequenceClassification": "pixel.model.heads",
    "PIXELForTokenClassification": "pixel.model.heads",
    "PIXELForQuestionAnswering": "pixel.model.heads",
    "PIXELForBiaffineParsing": "pixel.model.heads",
    "SpanMaskingGenerator": "pixel.model.masking",
    "reconstruct": "pixel.viz",
    "reconstruction_figure": "pixel.viz",
    "loss_curve_figure": "pixel.viz",
    "embed": "pixel.embedding.encode",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pixel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
