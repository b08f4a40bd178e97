"""Read and write records: Alpaca JSON, JSONL, Parquet, the Hugging Face Hub and URLs.

Readers yield *raw* items so that ``ingest`` can quarantine a bad record instead of failing the
whole file; writers take tables with :data:`curate.core.schema.RECORD_SCHEMA`.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.errors import CurateError
from curate.core.jsonparse import DuplicateKeys, Unusable, loads  # DuplicateKeys: ingest imports it from here
from curate.core.schema import RECORD_SCHEMA, TEXT_FIELDS, read_table, write_parquet

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


# Magic numbers of files that are often fed to a JSON reader by mistake.
_MAGIC = [
    (b"\x1f\x8b", "gzip-compressed; decompress it first (gunzip)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed; decompress it first (unzstd)"),
    (b"BZh", "bzip2-compressed; decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed; decompress it first (unxz)"),
    (b"PK\x03\x04", "a zip archive; extract it first"),
    (b"PAR1", "a Parquet file; give it a .parquet name"),
]
_BOMS = [  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32-LE"), (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32-BE"),
    (b"\xff\xfe", "utf-16-le", "UTF-16-LE"), (b"\xfe\xff", "utf-16-be", "UTF-16-BE"),
]


def _decode(data: bytes, path: str) -> str:
    """Bytes of a JSON/JSONL file -> text. UTF-8 (BOM optional) and UTF-16/32 *with* a BOM are
    decoded; compressed or binary files and UTF-16/32 without a BOM raise :class:`CurateError`
    (guessing an encoding would be a silent decision)."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise CurateError(f"{path}: file is {what}")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:  # surrogatepass: a lone surrogate code unit is quarantined with its record
                return data[len(bom):].decode(codec, errors="surrogatepass")
            except UnicodeDecodeError as e:
                raise CurateError(f"{path}: invalid {name} at byte {e.start + len(bom)}: {e.reason}") from None
    head = data[:1024]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):  # a third NUL bytes: not UTF-8 text
        name = ("UTF-32-LE" if head[1:4] == b"\0\0\0" else "UTF-32-BE" if head[:3] == b"\0\0\0"
                else "UTF-16-LE" if head[1] == 0 else "UTF-16-BE" if head[0] == 0 else "UTF-16 or UTF-32")
        raise CurateError(f"{path}: file looks like {name} without a byte-order mark; "
                          "save it as UTF-8 (or with a BOM)")
    # surrogateescape keeps invalid UTF-8 bytes as lone surrogates, so the record that holds
    # them can be quarantined by name instead of the whole file failing to decode.
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="surrogateescape")


def _kind(value: Any) -> str:
    return "null" if value is None else value.kind if isinstance(value, Unusable) else type(value).__name__


def _looks_like_record(obj: dict, record_keys: Collection[str]) -> bool:
    return any(k in obj for k in record_keys)


def _iter_json(path: Path, record_keys: Collection[str] = TEXT_FIELDS) -> Iterator[RawItem]:
    text = _decode(path.read_bytes(), str(path))
    if not text.strip(" \t\r\n"):
        raise CurateError(f"{path}: file is empty, expected a JSON array of records")
    try:
        data = loads(text)
    except json.JSONDecodeError as e:
        raise CurateError(
            f"{path}: malformed JSON at line {e.lineno} column {e.colno}: {_msg(e)}; "
            "no record could be read (for one record per line use .jsonl)"
        ) from None
    if isinstance(data, dict) and _looks_like_record(data, record_keys):
        data = [data]  # one record on its own, even when one of its fields is a list
    elif isinstance(data, dict):  # {"data": [...]} is common for exported sets
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise CurateError(f"{path}: expected a JSON array of records, got an object with keys "
                              f"{sorted(data)[:5]} that is neither a record nor a wrapper of one list")
        data = lists[0]
    if not isinstance(data, list):
        raise CurateError(f"{path}: expected a JSON array of records, got {_kind(data)}")
    for i, value in enumerate(data):
        yield RawItem(source_name(path), i, value)


def jsonl_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a ``.jsonl`` file as ``(0-based line number, line)``, unparsed
    (``executor: ray`` parses them on the workers with :func:`jsonl_item`). Raises
    :class:`CurateError` for an empty file, one that cannot be decoded, or one JSON document
    spread over several lines (its first line malformed, the whole text valid)."""
    text = _decode(path.read_bytes(), str(path))
    if not text.strip(" \t\r\n"):
        raise CurateError(f"{path}: file is empty, expected one JSON record per line")
    # "\n" ends a line (a CR before it is JSON whitespace); a file with only CRs is old Mac style
    sep = "\n" if "\n" in text else "\r"
    first = True
    for i, line in enumerate(text.split(sep)):
        line = line.removeprefix("\ufeff")  # files concatenated with their BOMs
        if not line.strip(" \t\r"):
            continue  # blank lines are not records
        if first:
            first = False
            try:
                loads(line)
            except json.JSONDecodeError:
                if text.lstrip(" \t\r\n\ufeff")[:1] in "[{":
                    _not_json_lines(path, text)
        yield i, line


def jsonl_item(source: str, number: int, line: str) -> RawItem:
    """One line of a ``.jsonl`` file parsed by :func:`loads`; a malformed line is an item with
    ``error`` set and the line kept as ``raw``."""
    try:
        return RawItem(source, number, loads(line))
    except json.JSONDecodeError as e:
        return RawItem(source, number, error=f"malformed JSON at column {e.colno}: {_msg(e)}", raw=line)


def _iter_jsonl(path: Path, record_keys: Collection[str] = TEXT_FIELDS) -> Iterator[RawItem]:
    name = source_name(path)
    for i, line in jsonl_lines(path):
        yield jsonl_item(name, i, line)


def _not_json_lines(path: Path, text: str) -> None:
    """Raise when a .jsonl file whose first line is malformed is one JSON document instead."""
    try:
        value = loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError:
        return
    raise CurateError(f"{path}: file holds one JSON {_kind(value)} over several lines, not one record "
                      "per line; give it a .json name")


def _iter_parquet(path: Path, record_keys: Collection[str] = TEXT_FIELDS) -> Iterator[RawItem]:
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise CurateError(f"{path}: cannot read Parquet: {_one_line(e)}") from None
    names = table.column_names
    if len(set(names)) != len(names):
        dups = sorted({n for n in names if names.count(n) > 1})
        raise CurateError(f"{path}: Parquet file repeats column names {dups}; one of each would be lost")
    columns = []
    for col in table.columns:
        try:
            columns.append(col.to_pylist())
        except Exception:  # one value with no Python form (a timestamp past year 9999) spoils the column
            columns.append([_as_py(col, k) for k in range(len(col))])
    for i in range(table.num_rows):
        yield RawItem(source_name(path), i, {n: c[i] for n, c in zip(names, columns)})


def _as_py(col: pa.ChunkedArray, k: int) -> Any:
    try:
        return col[k].as_py()
    except UnicodeDecodeError as e:  # a string column holding bytes that are not UTF-8
        return Unusable(str(col.type), f"invalid UTF-8: undecodable byte at byte {e.start}")
    except Exception as e:
        return Unusable(str(col.type), f"unsupported value: {col.type} value cannot be converted: {_one_line(e)}")


def _msg(e: json.JSONDecodeError) -> str:
    return e.msg.removesuffix(" at")  # "Invalid control character at" reads oddly before our position


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def source_name(path: Path) -> str:
    """A file's name as its records' ``source`` (undecodable bytes replaced: a name that is not
    UTF-8 would make every record's ``source`` unwritable)."""
    return os.fsencode(path.name).decode("utf-8", errors="replace")



def _iter_hub(spec: str) -> Iterator[RawItem]:
    """``hf:NAME`` or ``hf:NAME@SPLIT`` -> rows of ``datasets.load_dataset(NAME, split=SPLIT)``.

    NAME may be a Hub id (``tatsu-lab/alpaca``, needs network) or a local dataset folder.
    """
    import datasets

    name, _, split = spec[len(HF_PREFIX):].partition("@")
    try:
        ds = datasets.load_dataset(name, split=split or "train")
    except Exception as e:  # network, missing dataset, bad split: all reported the same way
        raise CurateError(f"{spec}: cannot load from the Hugging Face Hub: {_one_line(e)}") from None
    n = 0
    try:
        for row in ds:
            yield RawItem(spec, n, row)
            n += 1
    except Exception as e:  # a row that datasets cannot decode
        raise CurateError(f"{spec}: cannot read record {n} (0-based): {_one_line(e)}") from None


def _download(url: str) -> Path:
    suffix = Path(urllib.parse.urlparse(url).path).suffix or ".json"
    if suffix not in FORMATS:
        raise CurateError(f"{url}: cannot tell the format from the URL; expected one of {FORMATS}")
    tmp = Path(tempfile.mkdtemp(prefix="curate-dl-")) / ("download" + suffix)
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            f.write(r.read())
    except OSError as e:
        raise CurateError(f"{url}: download failed: {_one_line(e)}") from None
    return tmp


def iter_raw(spec: str | Path, *, record_keys: Collection[str] = TEXT_FIELDS) -> Iterator[RawItem]:
    """Yield the raw items of a source: a local ``.json``/``.jsonl``/``.parquet`` file, a
    ``hf:`` dataset or an ``http(s)://``/``file://`` URL to one of those files.

    A ``.json`` file holds an array of records, one record (an object with any of
    ``record_keys``; ingest passes the text fields and the ``field_map`` names) or a wrapper
    object with exactly one list (``{"data": [...]}``). Values are parsed by :func:`loads`, so
    an item's ``value`` may hold :class:`Unusable` / :class:`DuplicateKeys` markers.

    Raises :class:`CurateError` (one line) for a missing, empty, compressed, unreadable or
    malformed file, or an encoding it will not guess (UTF-16/32 without a BOM).
    """
    spec = str(spec)
    if spec.startswith(HF_PREFIX):
        yield from _iter_hub(spec)
        return
    if "://" in spec:
        name = Path(urllib.parse.urlparse(spec).path).name
        for item in iter_raw(_download(spec), record_keys=record_keys):
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
    try:
        yield from reader(path, record_keys)
    except OSError as e:  # unreadable: permissions, a vanished file
        raise CurateError(f"{path}: cannot read: {_one_line(e)}") from None


def read_records(path: str | Path) -> pa.Table:
    """Read a stage's Parquet file of records as a :data:`RECORD_SCHEMA` table.

    The one records reader: :func:`curate.core.schema.read_table` with :data:`RECORD_SCHEMA`
    (columns present, types castable, no nulls) plus the record contract that ids are unique
    (annotations and ``clean`` address records by id). Raises :class:`CurateError` (one line,
    naming the file) when the file is missing or damaged, lacks a column, has a wrong type or a
    null, or repeats an id."""
    table = read_table(path, RECORD_SCHEMA)
    check_unique_ids(table.column("id"), path)
    return table


def check_unique_ids(ids: pa.ChunkedArray | pa.Array, path: str | Path) -> None:
    """Raise :class:`CurateError` naming ``path``, the id and both rows when ``ids`` repeats one."""
    if pc.count_distinct(ids).as_py() != len(ids):
        seen: dict[str, int] = {}
        for row, i in enumerate(ids.to_pylist()):
            if i in seen:
                raise CurateError(f"{path}: not a curate records file: id {i!r} repeats "
                                  f"(rows {seen[i]} and {row}, 0-based); ids must be unique")
            seen[i] = row


def read_seed_tasks(path: str | Path) -> list[dict]:
    """Alpaca/self-instruct ``seed_tasks.jsonl`` -> ``[{"id", "instruction", "input", "output"}]``,
    one per non-blank line, from each task's first instance (as Alpaca's
    ``generate_instruction.py`` uses). UTF-8, an optional BOM; lines end at ``\\n``.

    Raises :class:`CurateError` (one line) naming the file when it is missing or unreadable, and
    the file and line when a line is not UTF-8, not JSON, lacks ``id``/``instruction``/
    ``instances[0].input``/``.output``, or one of those is not a string."""
    path = Path(path)
    if not path.is_file():
        raise CurateError(f"{path}: no such seed tasks file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CurateError(f"{path}: cannot read: {_one_line(e)}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise CurateError(f"{path}: line {line}: not UTF-8 (byte {e.start}: {e.reason})") from None
    seeds = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            seeds.append(_seed_task(line, f"{path}: line {n}"))
    return seeds


def _seed_task(line: str, where: str) -> dict:
    """One seed task line -> ``{"id", "instruction", "input", "output"}``; ``where`` names it."""
    try:
        t = loads(line)  # never RecursionError or int-limit ValueError: those become Unusable
        inst = t["instances"][0]
        seed = {"id": t["id"], "instruction": t["instruction"], "input": inst["input"], "output": inst["output"]}
    except (json.JSONDecodeError, KeyError, IndexError, TypeError) as e:
        raise CurateError(f"{where}: not a seed task ({type(e).__name__}: {_one_line(e)})") from None
    bad = [k for k in seed if not isinstance(seed[k], str)]
    if bad:
        raise CurateError(f"{where}: not a seed task ({bad[0]} is {_kind(seed[bad[0]])}, expected a string)")
    return seed


def write_records(table: pa.Table, path: str | Path) -> Path:
    """Export records by extension: ``.parquet`` (zstd) and ``.jsonl`` keep every schema field;
    ``.json`` writes Alpaca's format (a list of ``{instruction, input, output}``, indent 4 as
    ``alpaca_data.json``; id, source and meta are not written). Raises :class:`CurateError` for
    another extension or a path that cannot be written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CurateError(f"{path}: unknown export format {suffix!r}; expected one of {FORMATS}")
    try:
        return _write_records(table, path, suffix)
    except OSError as e:
        raise CurateError(f"{path}: cannot write: {_one_line(e)}") from None


def _write_records(table: pa.Table, path: Path, suffix: str) -> Path:
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
    return path
