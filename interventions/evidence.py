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
import re
from typing import Any

from django import forms
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


# What a browser sniffing a file takes for HTML or XML when it begins with it (the WHATWG MIME
# sniffing rules, after a byte order mark and white space), each ending at a space or ">".
_HTML_OPENINGS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
)
_TAG_ENDS = b" \t\n\x0c\r>/"
# Elements that run script or load another document wherever in the text they stand.
_ACTIVE_TAG = re.compile(
    rb"<\s*(script|html|body|iframe|frame|object|embed|svg|math|meta|link|base|form|img)"
    rb"[\s/>]",
    re.IGNORECASE,
)
_BYTE_ORDER_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _is_markup(start: bytes) -> bool:
    """HTML, SVG or XML passed off as text: a browser opening it could run its script.

    A byte order mark or a leading comment does not hide it, nor an event handler on <body>.
    """
    head = start
    for mark in _BYTE_ORDER_MARKS:
        head = head.removeprefix(mark)
    head = head.lstrip(b" \t\n\x0c\r").lower()
    if head.startswith((b"<?xml", b"<svg")):
        return True
    for opening in _HTML_OPENINGS:
        after = head[len(opening) : len(opening) + 1]
        if head.startswith(opening) and (opening == b"<!--" or after == b"" or after in _TAG_ENDS):
            return True
    return _ACTIVE_TAG.search(start) is not None


def evidence_link_field() -> forms.URLField:
    """The one definition of an evidence link: "www.example.org" is read as https://..."""
    return forms.URLField(
        label="Or a link to the evidence (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="For example, https://www.example-trust.nhs.uk/board-papers",
    )


def clean_evidence_link(value: str) -> str:
    """The link as the web form stores it, for the API and the admin to store it the same."""
    return evidence_link_field().clean(value)


class ProgressUpdateChecks:
    """The checks of every form that adds a progress update, the trust area's and the
    regulators' in the admin alike: a real date no later than today, and a safe evidence file."""

    cleaned_data: dict[str, Any]

    def clean_date(self) -> datetime.date:
        date = self.cleaned_data["date"]
        validate_progress_date(date)
        return date

    def clean_evidence_file(self) -> Any:
        file = self.cleaned_data.get("evidence_file")
        if file:
            validate_evidence_file(file)
        return file
