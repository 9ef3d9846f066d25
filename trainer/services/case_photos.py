"""Clinical photos on logbook cases: re-encoded (metadata stripped), stored outside static/,
shown only to the people who may see the logbook."""
from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from trainer import clock
from trainer.extensions import db
from trainer.models import CasePhoto, LogbookCase
from trainer.security import can_view_practical_record
from trainer.services import Forbidden, NotFound, ServiceError
from trainer.services.audit import record_event

MAX_PHOTO_BYTES = 6 * 1024 * 1024
MAX_PIXELS = 40_000_000  # refuses decompression bombs long before memory is at risk
MAX_SIDE = 2000  # enough to judge skin; smaller files
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PHOTOS_PER_CASE = 6


def _reencode(data: bytes) -> bytes:
    """Decode and write a fresh JPEG: EXIF, GPS, XMP and comments do not survive."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise ServiceError("Photos must be JPEG, PNG or WebP images.")
                if image.width * image.height > MAX_PIXELS:
                    raise ServiceError("That image has too many pixels; export it at a smaller size.")
                upright = ImageOps.exif_transpose(image)  # keep it upright once the orientation tag is gone
                upright = upright.convert("RGB")
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                upright.save(out, format="JPEG", quality=85, optimize=True)
                return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            SyntaxError, ValueError):
        raise ServiceError("That file is not an image we can read (JPEG, PNG or WebP).") from None


def add_photo(learner, case: LogbookCase, data: bytes, consent_recorded: bool, store: Path) -> CasePhoto:
    """Attach a photo to the learner's own case, with the client's consent."""
    if case.user_id != learner.id:
        raise Forbidden("Only the practitioner who logged the case adds its photos.")
    if not consent_recorded:
        raise ServiceError("A photo needs the client's recorded consent: tick the consent box.")
    if not data:
        raise ServiceError("Choose a photo to upload.")
    if len(data) > MAX_PHOTO_BYTES:
        raise ServiceError(f"Photos must be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    if len(case.photos) >= MAX_PHOTOS_PER_CASE:
        raise ServiceError(f"A case holds at most {MAX_PHOTOS_PER_CASE} photos.")
    jpeg = _reencode(data)
    store.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ".jpg"
    (store / name).write_bytes(jpeg)
    photo = CasePhoto(case_id=case.id, stored_name=name, content_type="image/jpeg", size_bytes=len(jpeg),
                      consent_recorded=True, uploaded_dt=clock.now())
    db.session.add(photo)
    try:
        db.session.flush()
        record_event(learner, "practical.photo.add", f"case:{case.id}", photo=photo.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        (store / name).unlink(missing_ok=True)
        raise
    return photo


def photo_file(viewer, photo_id: int, store: Path, registration) -> tuple[CasePhoto, Path]:
    """The photo and its file, for someone who may see the case's logbook; otherwise NotFound."""
    photo = db.session.get(CasePhoto, photo_id)
    if photo is None or not can_view_practical_record(viewer, photo.case.user, registration):
        raise NotFound("No such photo.")
    path = store / photo.stored_name
    if not path.is_file():
        raise NotFound("The photo file is missing from the store.")
    return photo, path
