"""The shared reader for the files people hand the CLI: which encodings work, how others fail."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from monitor.errors import InputError
from monitor.textfiles import open_lines, read_text

TEXT = 'id,text\n1,"Grüße, 東京"\n2,plain\n'


@pytest.mark.parametrize("data", [
    TEXT.encode("utf-8"),
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    TEXT.encode("utf-16"),
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
], ids=["utf-8", "utf-8-bom", "utf-16", "utf-16-be"])
def test_accepted_encodings_read_the_same(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert read_text(path) == TEXT
    assert [line for _, line in open_lines(path)] == TEXT.splitlines(keepends=True)


@pytest.mark.parametrize(("data", "message"), [
    ("ok\nGrüße\n".encode("latin-1"), "f.csv:2: not UTF-8: byte 0xfc at offset 5"),
    ("hello\n".encode("utf-16-le"), "f.csv: looks like UTF-16 without a byte-order mark"),
    (b"first line of text\nsecond\x00line\n", "f.csv:2: contains NUL characters"),
])
def test_other_encodings_are_named(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as exc:
        read_text(path)
    assert str(exc.value).startswith(str(tmp_path / message))


def test_streamed_lines_stop_at_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b'{"id": "1"}\n{"id": "2"}\n' + "{\"id\": \"Gr\xfc\"}\n".encode("latin-1"))
    seen: list[int] = []
    with pytest.raises(InputError, match=r"posts.jsonl:\d+: not valid UTF-8"):
        for n, _line in open_lines(path):
            seen.append(n)
    assert seen in ([], [1, 2])  # decoded in chunks: the error may come before any line


def test_paths_that_are_not_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing.csv: file not found"):
        read_text(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_text(tmp_path)
    with pytest.raises(InputError, match="file not found"):
        list(open_lines(tmp_path / "missing.jsonl"))
