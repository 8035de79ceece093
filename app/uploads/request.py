"""Requests that may carry attachments get a larger body limit; all others keep theirs.

Why per endpoint: the ordinary limit (256 KiB) protects every other form and
the JSON API from large bodies. Only a multipart request to a view that takes
evidence may be as large as JIDU_UPLOAD_REQUEST_BYTES, and the limit must be
known before CSRF protection reads the form, which is before the view runs:
hence a request class, which sees the matched endpoint.
"""

from __future__ import annotations

from flask import Request, current_app
from werkzeug.datastructures import FileStorage

from app.services.attachments import Upload

UPLOAD_ENDPOINTS = frozenset({
    "public.report", "public.report_tagged", "public.status_reply", "review.manual_entry",
    "api.create_clue", "review.hotline_import_page",
})


class UploadRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if current_app and self.endpoint in UPLOAD_ENDPOINTS and (
                self.mimetype == "multipart/form-data"):
            return int(current_app.config["JIDU_UPLOAD_REQUEST_BYTES"])
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def uploads(files: list[FileStorage]) -> list[Upload]:
    """The files actually chosen (a browser sends an empty part when none is)."""
    return [Upload(f.filename, f.stream) for f in files if f.filename]
