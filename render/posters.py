"""Printable invite posters: one PNG per neighbour group (A5 at 150 dpi).

The poster shows the group's name, its buildings, a big QR code of the invite link and one
line of instructions in Chinese, so a captain can print it and tape it in the stairwell.
"""

from __future__ import annotations

import re
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 874, 1240  # A5 portrait at 150 dpi
INSTRUCTION = "用手机相机扫描二维码，在 Telegram 中打开“吾邻”，即可加入本邻里小组、提问和报告问题。"


def _font(path: Path | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(str(path), size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    """Wrap by characters (Chinese has no spaces) to fit ``width`` pixels."""
    lines, current = [], ""
    for ch in text:
        if draw.textlength(current + ch, font=font) > width and current:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def render_poster(
    *, group_name: str, community_name: str, buildings: list[str], link: str, font: Path | None
) -> Image.Image:
    """One poster as a Pillow image."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    title, body, small = _font(font, 64), _font(font, 34), _font(font, 28)
    y = 60
    for line in _wrap(draw, group_name, title, WIDTH - 120):
        draw.text((WIDTH // 2, y), line, font=title, fill="black", anchor="mt")
        y += 80
    draw.text((WIDTH // 2, y), community_name, font=small, fill="#555555", anchor="mt")
    y += 50
    for line in _wrap(draw, "、".join(buildings), body, WIDTH - 120):
        draw.text((WIDTH // 2, y), line, font=body, fill="black", anchor="mt")
        y += 46
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=10)
    qr.add_data(link)
    qr.make(fit=True)
    code = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    side = min(WIDTH - 200, HEIGHT - y - 260)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    image.paste(code, ((WIDTH - side) // 2, y + 20))
    y += side + 50
    for line in _wrap(draw, INSTRUCTION, small, WIDTH - 120):
        draw.text((WIDTH // 2, y), line, font=small, fill="black", anchor="mt")
        y += 40
    draw.text((WIDTH // 2, HEIGHT - 40), link, font=_font(font, 18), fill="#888888", anchor="mb")
    return image


def poster_filename(community: str, group: str) -> str:
    """A safe file name for a group's poster."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{community}-{group}") + ".png"
