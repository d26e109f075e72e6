"""The one check of what a board member may add to an action, for the web form and the API.

A progress update is dated no later than today and no earlier than the plans it reports on
could exist; its evidence file has an allowed extension, is at most 20 MB, and its first bytes
are what the extension says (an .exe renamed .pdf is refused, as is an SVG, which can carry
script). The trust area's form and API both call these, and so does the service that saves
the update, so no path can skip them.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from interventions.models.support import EVIDENCE_EXTENSIONS, EVIDENCE_MAX_BYTES

EARLIEST_PROGRESS = datetime.date(2000, 1, 1)
SNIFF_BYTES = 2048

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Office 97-2003
_ZIP = b"PK\x03\x04"  # Office Open XML and OpenDocument
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF",),
    "doc": (_OLE2,),
    "xls": (_OLE2,),
    "ppt": (_OLE2,),
    "docx": (_ZIP,),
    "xlsx": (_ZIP,),
    "pptx": (_ZIP,),
    "odt": (_ZIP,),
    "ods": (_ZIP,),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
TEXT_EXTENSIONS = {"csv", "txt"}
READABLE_NAMES = ", ".join(f".{extension}" for extension in EVIDENCE_EXTENSIONS)


def validate_progress_date(date: datetime.date) -> None:
    if date > timezone.localdate():
        raise ValidationError("Date of the progress must be today or in the past", code="future")
    if date < EARLIEST_PROGRESS:
        raise ValidationError(
            f"Progress cannot be dated before {EARLIEST_PROGRESS:%-d %B %Y}.", code="too_early"
        )


def validate_evidence_file(file: Any) -> None:
    """Refuse an evidence file the trust area does not accept, saying why."""
    name = os.path.basename(getattr(file, "name", "") or "")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in EVIDENCE_EXTENSIONS:
        raise ValidationError(
            f'"{name}" is not a file type the trust area accepts. Upload one of '
            f"{READABLE_NAMES}, or add a link to it instead.",
            code="file_type",
        )
    size = getattr(file, "size", None)
    if size is not None and size > EVIDENCE_MAX_BYTES:
        raise ValidationError(
            f'"{name}" is {size / (1024 * 1024):.1f} MB; evidence files can be at most '
            f"{EVIDENCE_MAX_BYTES // (1024 * 1024)} MB. Add a link to larger ones.",
            code="file_size",
        )
    if not size:
        raise ValidationError(f'"{name}" is empty.', code="empty")
    start = _first_bytes(file)
    if extension in TEXT_EXTENSIONS:
        if b"\x00" in start or _is_markup(start):
            raise ValidationError(
                f'"{name}" is not plain text, as a .{extension} file must be.', code="content"
            )
        return
    if not start.startswith(SIGNATURES[extension]):
        raise ValidationError(
            f'"{name}" does not contain what a .{extension} file holds: check it is the file '
            "you meant, saved in that format.",
            code="content",
        )


def _first_bytes(file: Any) -> bytes:
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    start = file.read(SNIFF_BYTES)
    file.seek(position)
    return start if isinstance(start, bytes) else start.encode()


def _is_markup(start: bytes) -> bool:
    """HTML or SVG passed off as text: a browser opening it would run its script."""
    head = start.lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script"))
