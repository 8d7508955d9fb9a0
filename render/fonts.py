"""Finding a font with Chinese glyphs (posters and charts are unreadable without one)."""

from __future__ import annotations

import logging
import subprocess
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

#: Common locations of CJK fonts on Debian/Ubuntu, macOS and Windows.
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)

MISSING_HINT = (
    "no font with Chinese glyphs was found; install one (Debian/Ubuntu: "
    "apt install fonts-wqy-microhei) or set CJK_FONT_PATH"
)


@cache
def find_cjk_font(configured: Path | None = None) -> Path | None:
    """The configured font, else a known system CJK font, else one fontconfig knows."""
    if configured is not None:
        return configured if configured.exists() else None
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path and Path(path).exists():
            return Path(path)
    return None
