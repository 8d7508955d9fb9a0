"""Media objects of the fake Bot API: photos, documents, voice notes, stickers and their files."""

from __future__ import annotations

import io
import mimetypes
from typing import Any

from tests.e2e.fake_botapi_protocol import UploadedFile, bad_request
from tests.e2e.fake_botapi_world import World

# Bytes for a URL the bot asked Telegram to fetch: tests must never reach the internet.
URL_PLACEHOLDER = b"fake-botapi: content of a URL that was not fetched"


def sample_jpeg(width: int = 64, height: int = 48) -> bytes:
    """A small real JPEG, so a bot that opens downloaded photos with Pillow can."""
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional for the fake; any bytes will do without it
        return b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def image_size(content: bytes) -> tuple[int, int]:
    """Pixel size of an uploaded picture, or a plausible default when it is not one."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except Exception:  # noqa: BLE001 - any unreadable upload just gets a default size
        return (800, 600)


def make_photo(world: World, content: bytes) -> list[dict[str, Any]]:
    """A photo as Telegram stores it: a small thumbnail plus the full size."""
    width, height = image_size(content)
    small_w = min(width, 90)
    sizes = [(small_w, max(1, height * small_w // max(width, 1))), (width, height)]
    photo = []
    for w, h in sizes:
        stored = world.add_file("photos", content, "jpg")
        photo.append(
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": w,
                "height": h,
                "file_size": len(content),
            }
        )
    for size in photo:
        world.media[size["file_id"]] = {"photo": photo}
    return photo


def make_document(
    world: World, content: bytes, file_name: str | None, mime_type: str | None
) -> dict[str, Any]:
    """A document with name and MIME type."""
    name = file_name or "file"
    mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
    stored = world.add_file("documents", content, suffix)
    document = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": name,
        "mime_type": mime,
        "file_size": len(content),
    }
    world.media[stored.file_id] = {"document": document}
    return document


def make_voice(world: World, duration: int = 3) -> dict[str, Any]:
    """A short OGG/Opus voice note."""
    content = b"OggS" + bytes(60)
    stored = world.add_file("voice", content, "oga")
    voice = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": len(content),
    }
    world.media[stored.file_id] = {"voice": voice}
    return voice


def make_sticker(world: World, emoji: str = "👍") -> dict[str, Any]:
    """A static WEBP sticker."""
    content = b"RIFF" + bytes(60)
    stored = world.add_file("stickers", content, "webp")
    sticker = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "file_size": len(content),
    }
    world.media[stored.file_id] = {"sticker": sticker}
    return sticker


def input_media(
    world: World, value: Any, files: dict[str, UploadedFile], kind: str, field: str
) -> dict[str, Any] | list[dict[str, Any]]:
    """Resolve an upload, attach:// reference, known file_id or URL into a media object."""
    upload = files.get(field)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = files.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"wrong HTTP URL specified: can't find attached file {value}")
    if upload is not None:
        content, name, mime = upload.content, upload.filename, upload.content_type
    elif isinstance(value, str) and value in world.media:
        known = world.media[value]
        if kind not in known:
            raise bad_request("wrong file identifier/HTTP URL specified: type of file mismatch")
        return known[kind]
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        content, name, mime = URL_PLACEHOLDER, value.rsplit("/", 1)[-1], None
    elif value in (None, ""):
        raise bad_request(f"there is no {field} in the request")
    else:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if kind == "photo":
        return make_photo(world, content)
    return make_document(world, content, name, mime)
