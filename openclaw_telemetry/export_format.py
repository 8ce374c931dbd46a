"""Export file formats: an `read.export.Export` written chunk by chunk as CSV, JSON Lines
or Parquet to a binary stream, never holding more than one chunk.

- CSV: a header row, then one row per record; empty for None, `true`/`false`, numbers as
  Python writes them (full precision, no currency formatting).
- JSON: JSON Lines (one object per line; `jq`, pandas `read_json(lines=True)` and
  DuckDB read it), so it streams and a reader needs no whole-file parse.
- Parquet: pyarrow's `ParquetWriter` with an explicit schema from the columns' types
  (one row group per chunk), so an empty export is still a file with its schema.

Datetimes are stored naive UTC and written as ISO 8601 to the microsecond with a `Z`
(`timeframe.iso`; Parquet: timestamps in microseconds, UTC); days as `YYYY-MM-DD`. pyarrow
is imported only for Parquet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, BinaryIO, Literal

import orjson

from openclaw_telemetry.read.export import Export
from openclaw_telemetry.timeframe import iso

Format = Literal["csv", "json", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "json", "parquet")
MEDIA_TYPES: dict[Format, str] = {"csv": "text/csv", "json": "application/x-ndjson",
                                  "parquet": "application/vnd.apache.parquet"}
SUFFIXES: dict[Format, str] = {"csv": ".csv", "json": ".jsonl", "parquet": ".parquet"}


def write(table: Export, fmt: Format, sink: BinaryIO) -> int:
    """Write every row of `table` to `sink` in `fmt`; return the number of rows."""
    writer = {"csv": _csv, "json": _json_lines, "parquet": _parquet}[fmt]
    return writer(table, sink)


def _text(kind: type) -> Callable[[Any], Any]:
    """How a CSV cell shows a value of a column's type (None is always an empty cell)."""
    if kind is datetime:
        return lambda v: "" if v is None else iso(v)
    if kind is bool:
        return lambda v: "" if v is None else ("true" if v else "false")
    if kind is date:
        return lambda v: "" if v is None else v.isoformat()
    return lambda v: v


def _csv(table: Export, sink: BinaryIO) -> int:
    text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=True)
    try:
        out = csv.writer(text)
        out.writerow(table.names)
        shown = [_text(kind) for _, kind in table.columns]
        count = 0
        for chunk in table.chunks():
            out.writerows([[show(v) for show, v in zip(shown, row, strict=True)]
                           for row in chunk])
            count += len(chunk)
        text.flush()
    finally:
        text.detach()  # the caller owns the stream
    return count


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_lines(table: Export, sink: BinaryIO) -> int:
    names = table.names
    timed = any(kind in (datetime, date) for _, kind in table.columns)
    count = 0
    for chunk in table.chunks():
        for row in chunk:  # written one by one: orjson's output buffers are large
            values = [_json_value(v) for v in row] if timed else row
            sink.write(orjson.dumps(dict(zip(names, values, strict=True)),
                                    option=orjson.OPT_APPEND_NEWLINE))
        count += len(chunk)
    return count


def _parquet(table: Export, sink: BinaryIO) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_(),
             datetime: pa.timestamp("us", tz="UTC"), date: pa.date32()}
    schema = pa.schema([pa.field(name, types[kind]) for name, kind in table.columns])
    count = 0
    with pq.ParquetWriter(sink, schema) as writer:
        for chunk in table.chunks():
            columns = list(zip(*chunk, strict=True))
            writer.write_batch(pa.record_batch(
                [pa.array(column, type=field.type) for column, field in zip(columns, schema,
                                                                            strict=True)],
                schema=schema))
            count += len(chunk)
    return count
