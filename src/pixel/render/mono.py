"""MONO (Lotz et al. 2023): a monospaced font on a grid of cells, the same number of characters in every patch.

No reference code was released; what is guessed here: the font is Noto Sans Mono (shipped, OFL; its advance
is 0.6 em = 8.0 px at the default 8 pt / 120 dpi, exactly half a 16 px patch), a patch holds
:data:`CELLS_PER_PATCH` = 2 cells, and the unit of a cell is an extended grapheme cluster (so accents and
conjuncts stay whole). Each cluster is laid out alone and centred in its cells; one wider than a cell (CJK,
emoji, clusters from fallback fonts) takes as many whole cells as its width needs, so nothing overlaps and
every cell boundary stays on the grid. Text starts at x = 0 (a patch boundary, no 2 px pad); the words of
``text.split()`` are separated by one blank cell; the black end patch follows the patch of the last cell.
Right to left (``rtl`` or by the renderer's vote) the clusters run in reverse order.
Word lists: every word starts on a patch boundary, one blank cell after the previous word at least (like the
continuous word-list renderer). Pairs: text_a, a black separator patch, text_b from the next patch.
Truncation: drawing stops after a word that reaches the last patch (clipped by the strip);
``text_a_max_length`` keeps the words of text_a that end within it (at least the first).
"""

from __future__ import annotations

from pixel.render.bigrams import grapheme_clusters
from pixel.render.stamps import Canvas, Stamp, combine, glyph
from pixel.render.structured import Row, StructuredRendering, Word, kept_words

CELLS_PER_PATCH = 2
WORD_CACHE_SIZE = 20_000


class MonoRendering(StructuredRendering):
    """Monospaced cells, two per patch (see the module docstring)."""

    def reset(self) -> None:
        self._words: dict[tuple[str, bool], tuple[Stamp, int, tuple[tuple[int, int, int, int], ...]]] = {}

    @property
    def cell(self) -> int:
        return self.renderer.pixels_per_patch // CELLS_PER_PATCH

    def word(self, text: str, rtl: bool) -> tuple[Stamp, int, tuple[tuple[int, int, int, int], ...]]:
        """(ink of the word from its first cell, its cells, (cell, cells, char low, char high) per cluster)."""
        key = (text, rtl)
        cached = self._words.get(key)
        if cached is not None:
            return cached
        cell = self.cell
        clusters = grapheme_clusters(text)
        lows = [0]
        for cluster in clusters:
            lows.append(lows[-1] + len(cluster))
        order = range(len(clusters) - 1, -1, -1) if rtl else range(len(clusters))
        placed, spans, cells = [], [], 0
        for i in order:
            item = glyph(self.renderer, self._native_seen, clusters[i])
            taken = max(1, -(-item.width // cell))
            placed.append((cells * cell + (taken * cell - item.width) // 2, item))
            spans.append((cells, taken, lows[i], lows[i + 1]))
            cells += taken
        if len(self._words) >= WORD_CACHE_SIZE:
            self._words.clear()
        entry = self._words[key] = (
            combine(placed, cells * cell, self.renderer.pixels_per_patch),
            cells,
            tuple(spans),
        )
        return entry

    def row(
        self, canvas: Canvas, words: list[Word], start: int, max_length: int, rtl: bool, aligned: bool
    ) -> Row:
        r = self.renderer
        self.native()
        cell = self.cell
        per = CELLS_PER_PATCH
        items = [self.word(w.text, rtl) for w in words]
        position = start * per
        positions, starts, ends = [], [], []
        for _item, cells, _spans in items:
            positions.append(position)
            starts.append(position // per)
            ends.append(-(-(position + cells) // per))
            position += cells + 1
            if aligned:
                position = -(-position // per) * per
        kept = kept_words(ends, max_length, r.max_seq_length, limited=max_length < r.max_seq_length)
        spans = []
        for i in range(kept):
            item, _cells, word_spans = items[i]
            canvas.place(positions[i] * cell, item)
            if words[i].start is not None:
                spans.append((positions[i], words[i].start, word_spans))
        end = ends[kept - 1] if kept else start
        full_end = ends[-1] if ends else start
        word_starts = starts[:kept] + [min(end, r.max_seq_length - 1)]
        return Row(end, word_starts, starts, full_end, kept - 1, spans, unit=per)
