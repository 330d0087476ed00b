"""WORDS (Lotz et al. 2023): continuous rendering inside a word, every word starting at a patch boundary.

No reference code was released; this is the word-list path of the original PIXEL renderer (which the POS,
NER and parsing recipes use) applied to running text: the words of ``text.split()`` are drawn as "<word> "
(the last without the space), the first at x = 2, every next one at the first patch boundary after the
previous one, the black end patch 2 px or more after the last. A word list renders exactly as the
continuous renderer's word list (tested). Right-to-left texts (``rtl`` or by the renderer's vote) put the
words in reverse order (the first word rightmost, as PIXEL-M4 does for bigrams); Pango orders the letters
inside each word. Pairs: text_a, a black separator patch, text_b from 2 px after it.

Truncation, as the continuous word-list renderer: drawing stops after a word that reaches the last patch
(that word is clipped by the strip); ``text_a_max_length`` keeps the words of text_a that end within it
(at least the first).
"""

from __future__ import annotations

from pixel.render.encoding import Encoding
from pixel.render.stamps import Canvas, Stamp, glyph
from pixel.render.structured import Row, StructuredRendering, Word, kept_words

LEFT_PAD = 2  # px before the first word, as the continuous renderer
WORD_CACHE_SIZE = 50_000


class WordRendering(StructuredRendering):
    """Each word starts a patch (see the module docstring)."""

    def reset(self) -> None:
        self._stamps: dict[str, Stamp] = {}

    def stamp(self, piece: str) -> Stamp:
        """The cached ink of "<word> " or "<word>" (the renderer's word bitmap, as a stamp)."""
        item = self._stamps.get(piece)
        if item is None:
            if len(self._stamps) >= WORD_CACHE_SIZE:
                self._stamps.clear()
            item = self._stamps[piece] = glyph(self.renderer, self._native_seen, piece)
        return item

    def render_words(self, words: list[str], rtl: bool = False) -> Encoding:
        if rtl:
            raise ValueError(
                "rtl=True is not supported for word lists (the original ignored it); leave it False"
            )
        # Pango finds each word's direction: a right-to-left word longer than the strip shows its end.
        words = self.renderer.clip_words(words, self.renderer.starts_rtl)
        return self._single([Word(w) for w in words], rtl=False, aligned=True)

    def row(
        self, canvas: Canvas, words: list[Word], start: int, max_length: int, rtl: bool, aligned: bool
    ) -> Row:
        r = self.renderer
        ppp = r.pixels_per_patch
        self.native()
        final = len(words) - 1
        stamps = self._stamps
        pieces = [w.text + " " for w in words[:-1]] + [w.text for w in words[-1:]]
        items = [stamps.get(piece) or self.stamp(piece) for piece in pieces]
        x = start * ppp + LEFT_PAD
        xs, starts, ends = [], [], []
        for i, item in enumerate(items):
            xs.append(x)
            starts.append(-(-x // ppp) if i else start)
            x = -(-(x + item.width + (LEFT_PAD if i == final else 0)) // ppp) * ppp
            ends.append(x // ppp)
        kept = kept_words(ends, max_length, r.max_seq_length, limited=max_length < r.max_seq_length)
        spans = []
        for i in range(kept):
            canvas.place(xs[i], items[i])
            if words[i].start is not None:
                spans.append((starts[i], words[i].start, ((0, ends[i] - starts[i], 0, len(words[i].text)),)))
        end = ends[kept - 1] if kept else start
        last_patch = r.max_seq_length - 1
        word_starts = [start] + [min(e, last_patch) for e in ends[:kept]]
        return Row(end, word_starts, starts, ends[-1] if ends else start, kept - 1, spans)
