"""Read and write records: Alpaca JSON, JSONL, Parquet, the Hugging Face Hub and URLs.

Readers yield *raw* items so that ``ingest`` can quarantine a bad record instead of failing the
whole file; writers take tables with :data:`curate.schema.RECORD_SCHEMA`.
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.schema import RECORD_SCHEMA

HF_PREFIX = "hf:"
FORMATS = (".json", ".jsonl", ".parquet")


@dataclass
class RawItem:
    """One item read from a source: ``value`` is the parsed object, or None when ``error`` says
    why the item could not be parsed (a malformed JSONL line). ``number`` is 0-based."""

    source: str
    number: int
    value: Any = None
    error: str | None = None
    raw: str | None = None


def _decode(data: bytes, path: str) -> str:
    # surrogateescape keeps invalid UTF-8 bytes as lone surrogates, so the record that holds
    # them can be quarantined by name instead of the whole file failing to decode.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape")


def _iter_json(path: Path) -> Iterator[RawItem]:
    text = _decode(path.read_bytes(), str(path))
    if not text.strip():
        raise CurateError(f"{path}: file is empty, expected a JSON array of records")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CurateError(
            f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {e.msg}; "
            "no record could be read (for one record per line use .jsonl)"
        ) from None
    if isinstance(data, dict):  # {"data": [...]} is common for exported sets
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise CurateError(f"{path}: expected a JSON array of records, got an object")
        data = lists[0]
    if not isinstance(data, list):
        raise CurateError(f"{path}: expected a JSON array of records, got {type(data).__name__}")
    for i, value in enumerate(data):
        yield RawItem(path.name, i, value)


def _iter_jsonl(path: Path) -> Iterator[RawItem]:
    data = path.read_bytes()
    if not data.strip():
        raise CurateError(f"{path}: file is empty, expected one JSON record per line")
    for i, line in enumerate(_decode(data, str(path)).split("\n")):
        if not line.strip():
            continue  # blank lines are not records
        try:
            yield RawItem(path.name, i, json.loads(line))
        except json.JSONDecodeError as e:
            yield RawItem(path.name, i, error=f"malformed JSON: {e.msg} at column {e.colno}", raw=line)


def _iter_parquet(path: Path) -> Iterator[RawItem]:
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise CurateError(f"{path}: cannot read Parquet: {e}") from None
    for i, row in enumerate(table.to_pylist()):
        yield RawItem(path.name, i, row)


def _iter_hub(spec: str) -> Iterator[RawItem]:
    """``hf:NAME`` or ``hf:NAME@SPLIT`` -> rows of ``datasets.load_dataset(NAME, split=SPLIT)``.

    NAME may be a Hub id (``tatsu-lab/alpaca``, needs network) or a local dataset folder.
    """
    import datasets

    name, _, split = spec[len(HF_PREFIX):].partition("@")
    try:
        ds = datasets.load_dataset(name, split=split or "train")
    except Exception as e:  # network, missing dataset, bad split: all reported the same way
        raise CurateError(f"{spec}: cannot load from the Hugging Face Hub: {e}") from None
    for i, row in enumerate(ds):
        yield RawItem(spec, i, row)


def _download(url: str) -> Path:
    suffix = Path(urllib.parse.urlparse(url).path).suffix or ".json"
    if suffix not in FORMATS:
        raise CurateError(f"{url}: cannot tell the format from the URL; expected one of {FORMATS}")
    tmp = Path(tempfile.mkdtemp(prefix="curate-dl-")) / ("download" + suffix)
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            f.write(r.read())
    except OSError as e:
        raise CurateError(f"{url}: download failed: {e}") from None
    return tmp


def iter_raw(spec: str | Path) -> Iterator[RawItem]:
    """Yield the raw items of a source: a local ``.json``/``.jsonl``/``.parquet`` file, a
    ``hf:`` dataset or an ``http(s)://``/``file://`` URL to one of those files.

    Raises :class:`CurateError` for a missing, empty, unreadable or malformed file.
    """
    spec = str(spec)
    if spec.startswith(HF_PREFIX):
        yield from _iter_hub(spec)
        return
    if "://" in spec:
        name = Path(urllib.parse.urlparse(spec).path).name
        for item in iter_raw(_download(spec)):
            item.source = name
            yield item
        return
    path = Path(spec)
    if not path.is_file():
        raise CurateError(f"{path}: no such file")
    readers = {".json": _iter_json, ".jsonl": _iter_jsonl, ".parquet": _iter_parquet}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise CurateError(f"{path}: unknown format {path.suffix!r}; expected one of {FORMATS}")
    yield from reader(path)


def read_records(path: str | Path) -> pa.Table:
    """Read a Parquet file of records (the output of a stage) as a :data:`RECORD_SCHEMA` table.

    Raises :class:`CurateError` when the file is missing or lacks schema columns.
    """
    path = Path(path)
    if not path.is_file():
        raise CurateError(f"{path}: no such file")
    table = pq.read_table(path)
    missing = [n for n in RECORD_SCHEMA.names if n not in table.column_names]
    if missing:
        raise CurateError(f"{path}: not a curate records file, missing columns {missing}")
    return table.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)


def write_records(table: pa.Table, path: str | Path) -> Path:
    """Export records by extension: ``.parquet`` (zstd) and ``.jsonl`` keep every schema field;
    ``.json`` writes Alpaca's format (a list of ``{instruction, input, output}``, indent 4 as
    ``alpaca_data.json``). Raises :class:`CurateError` for another extension."""
    from curate.schema import write_parquet

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return write_parquet(table.select(RECORD_SCHEMA.names), path)
    rows = table.to_pylist()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        alpaca = [{k: r[k] for k in ("instruction", "input", "output")} for r in rows]
        path.write_text(json.dumps(alpaca, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    elif suffix == ".jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                r = dict(r, meta=json.loads(r["meta"]))
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    else:
        raise CurateError(f"{path}: unknown export format {suffix!r}; expected one of {FORMATS}")
    return path
