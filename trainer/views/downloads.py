"""The one way a view hands a file to the browser as a download."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from flask import current_app, send_file
from flask.wrappers import Response

_NOT_IN_PLAIN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def content_disposition(filename: str) -> str:
    """RFC 6266 `attachment`: a quoted ASCII name every browser reads, plus the exact UTF-8 name when they differ."""
    plain = _NOT_IN_PLAIN_NAME.sub("", filename)
    if plain == filename:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_download(data: bytes | Path, filename: str, mimetype: str, *, personal: bool = True) -> Response:
    """`data` (bytes, or a file on disk) as a download named `filename`. Flask adds "; charset=utf-8" to text/*.
    `personal`: the file holds people's records or course content, so no shared cache may keep a copy."""
    if isinstance(data, Path):
        response = send_file(data, mimetype=mimetype, conditional=False, etag=False)
    else:
        response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    if personal:
        response.headers["Cache-Control"] = "private, no-store"
    return response
