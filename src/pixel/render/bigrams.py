"""BIGRAMS: PIXEL-M4's renderer (``pangocairo_renderer_bigrams_iso_char.py`` of ilkerkesen/pixel-m4), pixel for
pixel, with cached bigram patches.

Each word is cut into consecutive pairs of units from its start (``"oatmeal." -> oa|tm|ea|l.``). Units are code
points by default, as the released checkpoints saw them (combining marks, viramas and the parts of emoji
sequences are cut apart and drawn with dotted circles); ``bigram_unit="grapheme"`` keeps extended grapheme
clusters whole. Every unit is laid out alone; a pair starts at the left edge of a fresh patch, its second unit
right after the first's logical width, and the next pair at the first patch boundary after both
(``ceil((w1 + w2) / 16)`` patches; a zero-width pair takes none). A word starts at the patch after the previous
word's last pair; there is no space glyph. Right to left, each word's pairs are built from its logical start,
then each pair and the pair order are reversed.

Truncation, as PIXEL-M4: all words are measured; if they end after ``max_length`` patches, the words from the
last one whose start still fits are dropped, and one more (at least the first word stays, clipped by the
strip). Drawing stops early after a word that ends exactly at the last patch. The black end patch follows the
text and may overwrite the last text patch (``min(end, L - 1)``).

Speed: identical pairs give identical patches wherever they occur, so pair ink is cached (an LRU keyed by the
pair; the cache belongs to the renderer's native handles, i.e. to its font settings) and words are cached as
sequences of pairs (a dict per direction, emptied when full). The reference lays out every character twice
per render.

Fixes: an empty or whitespace-only text gives an empty strip (the end patch at patch 0, num_text_patches 0)
instead of IndexError, in every input kind and either side of a pair; PIXEL-M4's special case that replaced a
lone word starting with ``http://www.google.com/search`` by that URL (a UD treebank workaround) is not copied.
"""

from __future__ import annotations

import itertools

from pixel.render.stamps import LRU, Canvas, Stamp, combine, glyph
from pixel.render.structured import Row, StructuredRendering, Word

BIGRAM_CACHE_SIZE = 20_000
WORD_CACHE_SIZE = 20_000


def grapheme_clusters(text: str) -> list[str]:
    """Extended grapheme clusters (Unicode UAX #29) of ``text``."""
    import regex

    return regex.findall(r"\X", text)


class BigramRendering(StructuredRendering):
    """Two units per patch, each pair at a patch start (see the module docstring)."""

    def reset(self) -> None:
        self._pairs = LRU(BIGRAM_CACHE_SIZE)
        self._words: dict[bool, dict[str, tuple[Stamp, int, tuple[tuple[int, int, int, int], ...]]]] = {
            False: {},
            True: {},
        }

    def pair(self, units: str | tuple[str, ...]) -> Stamp:
        """The ink of one pair (a str of 1-2 code points or a tuple of 1-2 clusters) drawn at a patch start."""
        cached = self._pairs.get(units)
        if cached is not None:
            return cached
        native = self._native_seen
        first = glyph(self.renderer, native, units[0])
        placed = [(0, first)]
        if len(units) > 1:
            placed.append((first.width, glyph(self.renderer, native, units[1])))
        width = sum(item.width for _x, item in placed)
        return self._pairs.put(units, combine(placed, width, self.renderer.pixels_per_patch))

    def word(self, text: str, rtl: bool) -> tuple[Stamp, int, tuple[tuple[int, int, int, int], ...]]:
        """(ink of the word from its first patch, its patches, (patch, patches, char low, char high) of each
        pair), cached per direction (words follow Zipf's law: most are cache hits)."""
        cache = self._words[rtl]
        cached = cache.get(text)
        if cached is not None:
            return cached
        ppp = self.renderer.pixels_per_patch
        if self.renderer.bigram_unit == "grapheme":
            units = grapheme_clusters(text)
            bounds = list(itertools.accumulate(map(len, units), initial=0))
            keys: list[str | tuple[str, ...]] = [tuple(units[i : i + 2]) for i in range(0, len(units), 2)]
            ranges = [(bounds[i], bounds[min(i + 2, len(units))]) for i in range(0, len(units), 2)]
        else:
            keys = [text[i : i + 2] for i in range(0, len(text), 2)]
            ranges = [(i, min(i + 2, len(text))) for i in range(0, len(text), 2)]
        if rtl:
            keys, ranges = [key[::-1] for key in keys][::-1], ranges[::-1]
        placed, spans, patch = [], [], 0
        for key, (low, high) in zip(keys, ranges, strict=True):
            item = self.pair(key)
            count = -(-item.width // ppp)
            placed.append((patch * ppp, item))
            if count:
                spans.append((patch, count, low, high))
            patch += count
        if len(cache) >= WORD_CACHE_SIZE:
            cache.clear()
        entry = cache[text] = (combine(placed, patch * ppp, ppp), patch, tuple(spans))
        return entry

    def row(
        self, canvas: Canvas, words: list[Word], start: int, max_length: int, rtl: bool, aligned: bool
    ) -> Row:
        ppp = self.renderer.pixels_per_patch
        last_patch = self.renderer.max_seq_length - 1
        cache = self._words[rtl]
        drawn = [cache.get(w.text) or self.word(w.text, rtl) for w in words]
        starts, patch = [], start
        for _item, patches, _spans in drawn:
            starts.append(patch)
            patch += patches
        full_end = patch
        last = len(words) - 1
        if full_end > max_length:
            # PIXEL-M4's walk back: from the second-to-last word to the last one starting within max_length,
            # then one word more.
            patches = full_end
            while patches > max_length:
                last -= 1
                patches = max_length if last < 0 else starts[last]
            last = max(last - 1, 0)
        spans = []
        patch = start
        for index in range(min(last + 1, len(words))):
            item, patches, word_spans = drawn[index]
            canvas.place(patch * ppp, item)
            if words[index].start is not None:
                spans.append((patch, words[index].start, word_spans))
            patch += patches
            if index < last and patch == last_patch:
                break
        return Row(patch, starts[: last + 1] + [patch], starts, full_end, last, spans)
