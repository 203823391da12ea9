"""Input files for ``send``, ``process`` and ``bench``: one raw event per file or per line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".hl7", ".json", ".ndjson", ".jsonl")


class InputNotFound(FileNotFoundError):
    """A path given on the command line does not exist or holds no input files."""


@dataclass(frozen=True)
class RawInput:
    path: Path
    index: int  # line number (1-based) for .ndjson, 0 for whole files
    data: bytes


def collect_files(paths: Sequence[Path]) -> list[Path]:
    """Expand folders (recursively, sorted) to their .hl7/.json/.ndjson files."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                raise InputNotFound(f"no {'/'.join(SUFFIXES)} files under {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputNotFound(f"input not found: {path}")
    return files


def iter_inputs(paths: Sequence[Path]) -> Iterator[RawInput]:
    """Whole file for .hl7/.json (one message each), one event per non-blank line otherwise."""
    for path in collect_files(paths):
        data = path.read_bytes()
        if path.suffix in (".ndjson", ".jsonl"):
            for number, line in enumerate(data.splitlines(), start=1):
                if line.strip():
                    yield RawInput(path, number, line)
        else:
            yield RawInput(path, 0, data)
