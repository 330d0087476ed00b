"""Fonts for the PangoCairo renderer: family names, the default fallback set, and hermetic font maps.

Hermetic (the default): Pango gets a font map bound to a *private* fontconfig configuration that holds only
the renderer's font file plus its fallback fonts (the files of ``fallback_fonts_dir``, or
:data:`DEFAULT_FALLBACK_FONTS`). The rendering rules of that configuration (antialiasing, slight hinting, the
fallback order) are written here, so a render does not depend on which fonts or fontconfig rules a machine
has. The process-wide fontconfig configuration is never changed.

System (``use_system_fonts=True``): like the original, the font file is added to the process-wide fontconfig
configuration and Pango falls back to any installed font.

Using the original's font: PIXEL's released models were fine-tuned on renders of ``GoNotoCurrent.ttf``
(it ships in every ``Team-PIXEL/*`` Hub repository next to ``text_renderer_config.json``). Given that file,
pass ``font_file="path/to/GoNotoCurrent.ttf"`` (or load the repository's renderer folder with
``load_renderer``); our default ``NotoSans-Regular.ttf`` gives close but not identical images.

All native libraries are loaded on first use: importing this module loads nothing.
"""

from __future__ import annotations

import os
import struct
import threading
import warnings
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

_NOTO = "/usr/share/fonts/truetype/noto/"
# Fallback fonts of a hermetic renderer without ``fallback_fonts_dir``, in fallback order (Debian packages
# fonts-dejavu-core, fonts-noto-core, fonts-noto-cjk, fonts-noto-color-emoji). DejaVu Sans comes first, as in
# Debian's fontconfig order, so that Greek, Arabic and Hebrew look like the system-font renders.
DEFAULT_FALLBACK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    _NOTO + "NotoSansArabic-Regular.ttf",
    _NOTO + "NotoSansHebrew-Regular.ttf",
    _NOTO + "NotoSansDevanagari-Regular.ttf",
    _NOTO + "NotoSansBengali-Regular.ttf",
    _NOTO + "NotoSansTamil-Regular.ttf",
    _NOTO + "NotoSansThai-Regular.ttf",
    _NOTO + "NotoSansEthiopic-Regular.ttf",
    _NOTO + "NotoSansArmenian-Regular.ttf",
    _NOTO + "NotoSansGeorgian-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    _NOTO + "NotoColorEmoji.ttf",
    _NOTO + "NotoSansSymbols-Regular.ttf",
    _NOTO + "NotoSansSymbols2-Regular.ttf",
    _NOTO + "NotoSansMath-Regular.ttf",
)

# Rendering rules of the hermetic configuration: the values Debian 12's default fontconfig rules give
# (10-yes-antialias, 10-hinting-slight, 11-lcdfilter-default, 10-scale-bitmap-fonts, the generic emoji family),
# so that hermetic renders equal system-font renders wherever both pick the same fonts (24 of the 25 golden
# renders). FAMILIES is replaced by the fallback order.
_HERMETIC_RULES = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <match target="pattern">
    <edit name="family" mode="append_last" binding="weak">FAMILIES</edit>
  </match>
  <match target="pattern">
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
    <edit name="hinting" mode="assign"><bool>true</bool></edit>
    <edit name="hintstyle" mode="assign"><const>hintslight</const></edit>
    <edit name="lcdfilter" mode="assign"><const>lcddefault</const></edit>
  </match>
EMOJI_RULE  <!-- Bitmap fonts (Noto Color Emoji) are scaled to the requested pixel size (10-scale-bitmap-fonts). -->
  <match target="font">
    <test name="outline"><bool>false</bool></test>
    <edit name="pixelsizefixupfactor" mode="assign">
      <divide><name target="pattern">pixelsize</name><name target="font">pixelsize</name></divide>
    </edit>
  </match>
  <match target="font">
    <test name="outline"><bool>false</bool></test>
    <test name="scalable"><bool>false</bool></test>
    <test name="hinting"><bool>true</bool></test>
    <edit name="scalingnotneeded" mode="assign">
      <and>
        <less><name>pixelsizefixupfactor</name><double>1.2</double></less>
        <more><name>pixelsizefixupfactor</name><double>0.8</double></more>
      </and>
    </edit>
  </match>
  <match target="font">
    <test name="scalingnotneeded"><bool>true</bool></test>
    <edit name="pixelsizefixupfactor" mode="assign"><double>1.0</double></edit>
  </match>
  <match target="font">
    <test name="outline"><bool>false</bool></test>
    <test name="pixelsizefixupfactor" compare="not_eq"><double>1.0</double></test>
    <edit name="matrix" mode="assign">
      <times>
        <name>matrix</name>
        <matrix>
          <name>pixelsizefixupfactor</name><double>0</double>
          <double>0</double><name>pixelsizefixupfactor</name>
        </matrix>
      </times>
    </edit>
    <edit name="size" mode="assign"><divide><name>size</name><name>pixelsizefixupfactor</name></divide></edit>
  </match>
</fontconfig>
"""

# Pango asks for the generic family "emoji" for emoji runs; Debian's 45/60-generic rules map it to the colour
# emoji font. EMOJI_FAMILIES: the fallback families whose name contains "emoji".
_EMOJI_RULE = """  <match target="pattern">
    <test name="family"><string>emoji</string></test>
    <edit name="family" mode="prepend" binding="strong">EMOJI_FAMILIES</edit>
  </match>
"""

_CDEF = """
typedef struct _FcConfig FcConfig;
typedef struct _FcPattern FcPattern;
typedef unsigned char FcChar8;
typedef int FcBool;
FcConfig *FcConfigCreate(void);
FcConfig *FcConfigGetCurrent(void);
FcBool FcConfigAppFontAddFile(FcConfig *config, const FcChar8 *file);
FcBool FcConfigParseAndLoadFromMemory(FcConfig *config, const FcChar8 *buffer, FcBool complain);
FcBool FcInit(void);
void pango_fc_font_map_set_config(PangoFontMap *fcfontmap, FcConfig *fcconfig);
"""


@lru_cache(maxsize=1)
def native() -> tuple[Any, Any, Any]:
    """(ffi, fontconfig lib, pangoft2 lib), loaded once. The ffi includes pangocairocffi's types."""
    import ctypes.util

    import pangocairocffi
    from cffi import FFI

    ffi = FFI()
    ffi.include(pangocairocffi.ffi)
    ffi.cdef(_CDEF)
    libs = []
    for names in (("fontconfig", "libfontconfig.so.1"), ("pangoft2-1.0", "libpangoft2-1.0.so.0")):
        for name in names:
            try:
                libs.append(ffi.dlopen(ctypes.util.find_library(name) or name))
                break
            except OSError:
                continue
        else:
            raise RuntimeError(f"cannot load the native library {names[0]}: install fontconfig and Pango")
    return ffi, libs[0], libs[1]


def family_name(font_file: str | os.PathLike[str]) -> str:
    """Family name of a font file: the 'name' table's name ID 1, English if present (as fontTools'
    ``getDebugName(1)``, which the original used). For a collection (.ttc), its first font."""
    data = Path(font_file).read_bytes()
    try:
        return _family_from_sfnt(data)
    except (struct.error, ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read the family name of the font file {font_file}: {err}") from None


def _family_from_sfnt(data: bytes) -> str:
    base = 0
    if data[:4] in (b"ttcf",):
        (base,) = struct.unpack_from(">I", data, 12)
    (num_tables,) = struct.unpack_from(">H", data, base + 4)
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
        if tag == b"name":
            break
    else:
        raise ValueError("no 'name' table")
    _format, count, strings = struct.unpack_from(">HHH", data, offset)
    fallback = None
    for i in range(count):
        platform, encoding, language, name_id, length, string_offset = struct.unpack_from(
            ">HHHHHH", data, offset + 6 + 12 * i
        )
        if name_id != 1:
            continue
        raw = data[offset + strings + string_offset : offset + strings + string_offset + length]
        if platform in (0, 3):
            value = raw.decode("utf-16-be")
        elif platform == 1 and encoding == 0:
            value = raw.decode("mac_roman")
        else:
            continue
        if (platform, language) in ((1, 0), (3, 0x409)):
            return value
        fallback = fallback or value
    if fallback is None:
        raise ValueError("no family name (name ID 1)")
    return fallback


def font_files_in(folder: str | os.PathLike[str]) -> list[str]:
    """Font files (.ttf, .otf, .ttc, .otc) directly in ``folder``, sorted by name."""
    return sorted(str(p) for p in Path(folder).iterdir() if p.suffix.lower() in FONT_SUFFIXES and p.is_file())


def fallback_font_files(fallback_fonts_dir: str | os.PathLike[str] | None) -> list[str]:
    """The fallback fonts of a hermetic renderer: those of the folder, or the default set found here."""
    if fallback_fonts_dir is not None:
        return font_files_in(fallback_fonts_dir)
    present = [path for path in DEFAULT_FALLBACK_FONTS if os.path.isfile(path)]
    missing = [path for path in DEFAULT_FALLBACK_FONTS if path not in present]
    if missing:
        _warn_missing_once(tuple(missing))
    return present


@cache
def _warn_missing_once(missing: tuple[str, ...]) -> None:
    warnings.warn(
        f"{len(missing)} default fallback fonts are missing ({', '.join(missing)}); characters only they cover "
        "will be reported as unrenderable. On Debian: apt-get install fonts-dejavu-core fonts-noto-core "
        "fonts-noto-cjk fonts-noto-color-emoji, or pass fallback_fonts_dir=",
        stacklevel=4,
    )


_lock = threading.Lock()
_font_maps: dict[tuple[Any, ...], Any] = {}
_system_fonts_added: set[str] = set()


def hermetic_font_map(font_file: str, fallback_files: Iterable[str]) -> Any:
    """A PangoCairo font map that sees only ``font_file`` and ``fallback_files`` (fallback in that order).

    Font maps are cached per process and font set (they are costly to build and hold no per-call state).
    """
    files = (font_file, *[f for f in fallback_files if f != font_file])
    key = ("hermetic", os.getpid(), files)
    with _lock:
        font_map = _font_maps.get(key)
        if font_map is None:
            font_map = _build_hermetic_font_map(files)
            _font_maps[key] = font_map
    return font_map


def _build_hermetic_font_map(files: tuple[str, ...]) -> Any:
    from xml.sax.saxutils import escape

    import pangocairocffi

    ffi, fontconfig, pangoft2 = native()
    families: list[str] = []
    for path in files:
        try:
            name = family_name(path)
        except (OSError, ValueError):
            continue
        if name not in families:
            families.append(name)

    def strings(names: list[str]) -> str:
        return "".join(f"<string>{escape(name)}</string>" for name in names)

    emoji = [name for name in families if "emoji" in name.lower()]
    emoji_rule = _EMOJI_RULE.replace("EMOJI_FAMILIES", strings(emoji)) if emoji else ""
    rules = _HERMETIC_RULES.replace("EMOJI_RULE", emoji_rule).replace("FAMILIES", strings(families))
    config = fontconfig.FcConfigCreate()
    if config == ffi.NULL or not fontconfig.FcConfigParseAndLoadFromMemory(config, rules.encode(), 1):
        raise RuntimeError("fontconfig could not build a private configuration")
    for path in files:
        if not fontconfig.FcConfigAppFontAddFile(config, os.fsencode(path)):
            raise ValueError(f"fontconfig cannot read the font file {path}")
    font_map = pangocairocffi.pangocairo.pango_cairo_font_map_new()
    pangoft2.pango_fc_font_map_set_config(font_map, config)
    return font_map


def system_font_map(font_file: str, fallback_files: Iterable[str]) -> Any:
    """Pango's default font map after adding the font files to the process-wide fontconfig configuration
    (what the original did through manimpango). Fallback then reaches every installed font."""
    import pangocairocffi

    _ffi, fontconfig, _pangoft2 = native()
    with _lock:
        fontconfig.FcInit()
        for path in (font_file, *fallback_files):
            if path not in _system_fonts_added:
                if not fontconfig.FcConfigAppFontAddFile(fontconfig.FcConfigGetCurrent(), os.fsencode(path)):
                    raise ValueError(f"fontconfig cannot read the font file {path}")
                _system_fonts_added.add(path)
    return pangocairocffi.pangocairo.pango_cairo_font_map_get_default()
