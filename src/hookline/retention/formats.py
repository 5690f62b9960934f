"""The three file formats of an export, written and read one row (a dict) at a time.

Rows hold ints, floats, bools, text and None only: byte columns are already encoded (export.py).
jsonl.gz: one JSON object a line; csv: a header, then None as an empty field (CSV cannot tell an empty
text from a missing one, prefer jsonl.gz or parquet for a round trip); parquet: typed columns
written by pyarrow in row groups of ROW_GROUP rows, built from record batches of BATCH rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from hookline.retention.tables import ColumnKind

FORMATS = ("jsonl.gz", "parquet", "csv")
ROW_GROUP = 10_000  # rows of a parquet row group
BATCH = 1000  # rows turned into Arrow columns at a time
ROW_GROUP_BYTES = 64 << 20  # a row group of large rows ends sooner: memory stays bounded whatever the bodies


class RowWriter(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class _Jsonl:
    def __init__(self, path: Path) -> None:
        raw = path.open("wb")
        # mtime=0: the same rows give the same bytes (and checksum).
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)
        self._raw = raw
        self._text = io.TextIOWrapper(self._gz, encoding="utf-8", newline="\n")

    def write(self, row: dict[str, Any]) -> None:
        self._text.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._text.close()
        self._raw.close()


class _Csv:
    def __init__(self, path: Path, names: list[str]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=names)
        self._writer.writeheader()

    def write(self, row: dict[str, Any]) -> None:
        self._writer.writerow(row)

    def close(self) -> None:
        self._file.close()


def _arrow_schema(cols: list[tuple[str, ColumnKind]]) -> Any:
    import pyarrow as pa

    types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "text": pa.string()}
    return pa.schema([(name, types[kind]) for name, kind in cols])


class _Parquet:
    """Rows go into column lists of BATCH rows, each turned into an Arrow record batch at once; ROW_GROUP
    rows of batches (or ROW_GROUP_BYTES) make a row group. Memory: one row group in Arrow's compact
    buffers plus BATCH rows of Python values, never a row group of dicts."""

    def __init__(self, path: Path, cols: list[tuple[str, ColumnKind]]) -> None:
        import pyarrow.parquet as pq

        self._schema = _arrow_schema(cols)
        self._names = [name for name, _ in cols]
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="zstd")
        self._columns: list[list[Any]] = [[] for _ in cols]
        self._batches: list[Any] = []  # pyarrow.RecordBatch of the row group being built
        self._buffered = 0  # rows in self._batches
        self._bytes = 0

    def write(self, row: dict[str, Any]) -> None:
        for column, name in zip(self._columns, self._names, strict=True):
            column.append(row[name])
        if len(self._columns[0]) >= BATCH:
            self._seal()

    def _seal(self) -> None:
        import pyarrow as pa

        if self._columns[0]:
            batch = pa.RecordBatch.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(self._columns, self._schema, strict=True)],
                schema=self._schema,
            )
            self._batches.append(batch)
            self._buffered += batch.num_rows
            self._bytes += batch.nbytes
            self._columns = [[] for _ in self._names]
        if self._buffered >= ROW_GROUP or self._bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._batches:
            table = pa.Table.from_batches(self._batches, schema=self._schema)
            self._writer.write_table(table, row_group_size=ROW_GROUP)
            self._batches, self._buffered, self._bytes = [], 0, 0

    def close(self) -> None:
        self._seal()
        self._flush()
        self._writer.close()


def open_writer(fmt: str, path: Path, cols: list[tuple[str, ColumnKind]]) -> RowWriter:
    if fmt == "jsonl.gz":
        return _Jsonl(path)
    if fmt == "csv":
        return _Csv(path, [name for name, _ in cols])
    if fmt == "parquet":
        return _Parquet(path, cols)
    raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def _from_csv(value: str, kind: ColumnKind) -> Any:
    if value == "":
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value == "True"
    return value


def read_rows(fmt: str, path: Path, cols: list[tuple[str, ColumnKind]]) -> Iterator[dict[str, Any]]:
    """The rows of one file, streamed (a parquet file one row group at a time)."""
    if fmt == "jsonl.gz":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)
    elif fmt == "csv":
        kinds = dict(cols)
        with path.open(encoding="utf-8", newline="") as f:
            for raw in csv.DictReader(f):
                yield {k: _from_csv(v, kinds.get(k, "text")) for k, v in raw.items()}
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(str(path))
        for group in range(pf.num_row_groups):
            yield from pf.read_row_group(group).to_pylist()
    else:
        raise ValueError(f"unknown format {fmt!r}")
