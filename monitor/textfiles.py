"""Reading the text files people hand us (CSV, JSONL): UTF-8 with or without BOM, UTF-16 with BOM.

Spreadsheet programs save "Unicode text" as UTF-16 with a byte-order mark and Excel's "CSV
UTF-8" starts with a BOM; both must work. Anything else is refused with a message that names
the file, the line and the encoding problem instead of a stack trace or silent mojibake.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from monitor.errors import InputError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
ACCEPTED = "save it as UTF-8 (with or without BOM) or UTF-16 with BOM"


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or an InputError naming the file and why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path | str, exc: OSError) -> InputError:
    """One line for an OSError on a file someone named: missing, a folder, no permission."""
    name = str(path)
    if isinstance(exc, FileNotFoundError):
        return InputError("file not found", path=name)
    if isinstance(exc, IsADirectoryError):
        return InputError("is a directory, not a file", path=name)
    if isinstance(exc, PermissionError):
        return InputError("permission denied (cannot read the file)", path=name)
    return InputError(f"cannot read: {exc.strerror or exc}", path=name)


def decode_text(data: bytes, name: str) -> str:
    """Decode by the byte-order mark, else strict UTF-8; the error names line and encoding."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid {label} after its byte-order mark "
                                 f"(byte {exc.start}); {ACCEPTED}", path=name,
                                 line=_line_of(data, exc.start)) from None
    if _looks_like_utf16(data):
        raise InputError(f"looks like UTF-16 without a byte-order mark; {ACCEPTED}",
                         path=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise InputError(f"not UTF-8: byte 0x{byte:02x} at offset {exc.start} "
                         f"(perhaps Latin-1 or Windows-1252); {ACCEPTED}",
                         path=name, line=_line_of(data, exc.start)) from None


def read_text(path: Path) -> str:
    """The whole file as text (for small files: people and account imports)."""
    text = decode_text(read_bytes(path), str(path))
    if "\x00" in text:
        raise InputError("contains NUL characters (a binary file?)", path=str(path),
                         line=text.count("\n", 0, text.index("\x00")) + 1)
    return text


def open_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Stream a file's lines (1-based numbers) in the encoding its BOM names, else UTF-8.

    For JSONL of any size: memory stays flat; a byte that does not decode stops the stream
    with an InputError naming the file and the line.
    """
    name = str(path)
    head = _head(path)
    codec, label = "utf-8", "UTF-8"
    for bom, c, lab in _BOMS:
        if head.startswith(bom):
            codec, label = c, lab
            break
    else:
        if _looks_like_utf16(head):
            raise InputError(f"looks like UTF-16 without a byte-order mark; {ACCEPTED}",
                             path=name)
    n = 0
    with path.open(encoding=codec, newline="") as fh:
        try:
            for n, line in enumerate(fh, start=1):  # noqa: B007 (n is read after the loop)
                yield n, line
        except UnicodeDecodeError:
            raise InputError(f"not valid {label} (at or after this line); {ACCEPTED}",
                             path=name, line=n + 1) from None


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(400)
    except OSError as exc:
        raise unreadable(path, exc) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _looks_like_utf16(data: bytes) -> bool:
    """Every other byte NUL in the first few hundred: ASCII text written as UTF-16."""
    head = data[:400]
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return even.count(0) > len(even) * 0.4 or odd.count(0) > len(odd) * 0.4
