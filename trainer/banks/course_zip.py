"""Unpacking an uploaded course ZIP safely: every entry is checked before anything is written.

No absolute paths, no `..`, no links or special files, no encryption, a bounded number of
entries and a bounded unpacked size (counted from the bytes that really come out, not the
sizes the archive claims).
"""
from __future__ import annotations

import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

MAX_ZIP_ENTRIES = 500
MAX_ZIP_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
#: What macOS and Windows add to archives; never part of a course.
_ARCHIVE_CLUTTER = ("__MACOSX/",)
_CLUTTER_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchive(Exception):
    """The upload is not a ZIP we are willing to unpack; the message says why."""


def _entry_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The entry's relative path, None for clutter to skip; UnsafeArchive for anything that could escape."""
    name = info.filename.replace("\\", "/")
    if name.startswith(_ARCHIVE_CLUTTER) or name.rsplit("/", 1)[-1] in _CLUTTER_NAMES:
        return None
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeArchive(f"'{info.filename}' is a symbolic link; links are not accepted in a course ZIP.")
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UnsafeArchive(f"'{info.filename}' is not a plain file or folder.")
    path = PurePosixPath(name)
    if name.startswith("/") or _WINDOWS_DRIVE.match(name) or ".." in path.parts:
        raise UnsafeArchive(f"'{info.filename}' points outside the course folder (absolute path or '..').")
    if info.flag_bits & 0x1:
        raise UnsafeArchive(f"'{info.filename}' is encrypted; upload a ZIP without a password.")
    return path


def extract_course_zip(stream, root: Path) -> None:
    """Check every entry of the ZIP, then unpack it under `root`; raise UnsafeArchive on any doubt."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeArchive(
            "this is not a ZIP file. Zip the course folder (the one holding course.yaml) and upload that.") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise UnsafeArchive(f"the ZIP holds {len(infos)} entries; a course may have at most {MAX_ZIP_ENTRIES}.")
        if sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED_BYTES:
            raise UnsafeArchive(f"the ZIP unpacks to more than {MAX_ZIP_UNCOMPRESSED_BYTES // (1024 * 1024)} MiB.")
        entries = [(info, path) for info in infos if (path := _entry_path(info)) is not None]
        resolved_root = root.resolve()
        written = 0
        try:
            for info, path in entries:
                target = (root / path).resolve()
                if not target.is_relative_to(resolved_root):
                    raise UnsafeArchive(f"'{info.filename}' points outside the course folder.")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, open(target, "wb") as sink:
                    # Count what really comes out: the sizes in the directory could lie.
                    while chunk := source.read(64 * 1024):
                        written += len(chunk)
                        if written > MAX_ZIP_UNCOMPRESSED_BYTES:
                            raise UnsafeArchive(
                                f"the ZIP unpacks to more than {MAX_ZIP_UNCOMPRESSED_BYTES // (1024 * 1024)} MiB.")
                        sink.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise UnsafeArchive(
                f"the ZIP is damaged or uses a compression method that cannot be read ({exc}).") from exc
        except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
            raise UnsafeArchive("the ZIP holds a file and a folder with the same name.") from exc


def course_folder_in(root: Path) -> Path:
    """The folder holding course.yaml: the upload's top, or its single top folder."""
    if (root / "course.yaml").is_file():
        return root
    tops = list(root.iterdir())
    if len(tops) == 1 and tops[0].is_dir() and (tops[0] / "course.yaml").is_file():
        return tops[0]
    raise UnsafeArchive("there is no course.yaml at the top of the ZIP or in its single top folder. "
                        "Zip the course folder itself (the one holding course.yaml).")
