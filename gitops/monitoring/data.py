"""Reference data (CSV/JSONL/Parquet) and collected production data (data collector JSON lines) as columns.

Collected data: one JSON object per line whose ``data`` is the request or response body
(:mod:`gitops.targets.local.datacollect`; Azure's data collector writes the same envelope under
``<endpoint>/<deployment>/<collection>/YYYY/MM/DD[/HH]/*.jsonl``). Bodies understood:

* inputs ``{"data": [[v, ...], ...]}`` - rows in the reference's feature order (the wine sample);
* inputs ``{"input_data": {"columns": [...], "data": [[...]]}}`` - the MLflow/Azure split layout;
* inputs ``[{"feature": v, ...}, ...]`` or ``{"data": [{...}, ...]}`` - records;
* outputs ``{"predictions": [...], "probabilities": [[...]]}`` or a bare list of predictions.

Fast path: :func:`pyarrow.json.read_json` parses a whole file in C++ and the nested row lists are
flattened without touching Python objects; a file whose shape it cannot type (mixed types in a
column, ragged rows, records) falls back to ``json.loads`` per line, which also records data type
errors for the data quality signal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from gitops.errors import GitopsError

PREDICTION_COLUMN = "prediction"


class DataError(GitopsError):
    """Reference or production data is missing or unusable; the message names the file."""


@dataclass
class Column:
    """One feature: numbers as float64 (NaN = missing) or categories as strings."""

    name: str
    numeric: bool
    values: npt.NDArray[Any]
    nulls: npt.NDArray[np.bool_]
    type_errors: npt.NDArray[np.bool_]

    @property
    def size(self) -> int:
        return int(self.values.size)


@dataclass
class Table:
    columns: dict[str, Column] = field(default_factory=dict)
    source: str = ""

    @property
    def rows(self) -> int:
        return next(iter(self.columns.values())).size if self.columns else 0


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def column_from_values(name: str, raw: Sequence[Any], numeric: bool | None = None) -> Column:
    """Type a column of Python values; ``numeric=None`` infers it (numbers, or numeric strings)."""
    n = len(raw)
    nulls = np.fromiter((v is None or (isinstance(v, float) and math.isnan(v)) for v in raw), bool, n)
    if numeric is None:
        present = [v for v, isnull in zip(raw, nulls, strict=True) if not isnull]
        numeric = bool(present) and all(_is_number(v) or _parses_float(v) for v in present)
    if numeric:
        out = np.full(n, np.nan)
        errors = np.zeros(n, dtype=bool)
        for i, v in enumerate(raw):
            if nulls[i]:
                continue
            if _is_number(v) or (isinstance(v, str) and _parses_float(v)):
                out[i] = float(v)
            else:
                errors[i] = True
        return Column(name, True, out, nulls, errors)
    strs = np.array(
        ["" if isnull else category(v) for v, isnull in zip(raw, nulls, strict=True)], dtype=np.str_
    )
    return Column(name, False, strs, nulls, np.zeros(n, dtype=bool))


def category(v: Any) -> str:
    """Canonical text of a categorical value, so 1, 1.0 and "1" are the same category."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def as_categorical(col: Column) -> Column:
    if not col.numeric:
        return col
    vals = [None if isnull else float(v) for v, isnull in zip(col.values.tolist(), col.nulls, strict=True)]
    return column_from_values(col.name, vals, numeric=False)


def _parses_float(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def numeric_column(name: str, values: npt.NDArray[np.float64]) -> Column:
    nulls = np.isnan(values)
    return Column(name, True, values, nulls, np.zeros(values.size, dtype=bool))


# --- reference -----------------------------------------------------------------------------------


def read_reference(path: Path) -> Table:
    """CSV with a header row, JSON lines of records, or Parquet; column types are inferred."""
    if not path.exists():
        raise DataError(f"reference data {path} does not exist")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if not files:
        raise DataError(f"reference data folder {path} has no files")
    import pyarrow as pa

    tables = []
    for f in files:
        try:
            if f.suffix == ".csv":
                from pyarrow import csv as pacsv

                tables.append(pacsv.read_csv(f))
            elif f.suffix in (".jsonl", ".json"):
                from pyarrow import json as pajson

                tables.append(pajson.read_json(f))
            elif f.suffix == ".parquet":
                import pyarrow.parquet as pq

                tables.append(pq.read_table(f))
            else:
                raise DataError(f"reference data {f}: unsupported file type (use .csv, .jsonl or .parquet)")
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"reference data {f}: {exc}") from exc
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    if table.num_rows == 0:
        raise DataError(f"reference data {path} has no rows")
    out = Table(source=str(path))
    for name in table.column_names:
        arr = table.column(name)
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            values = arr.to_numpy(zero_copy_only=False).astype(np.float64)
            out.columns[name] = numeric_column(name, values)
        else:
            out.columns[name] = column_from_values(name, arr.to_pylist(), numeric=False)
    return out


# --- collected production data -------------------------------------------------------------------


def collection_files(root: Path, since: datetime | None = None, until: datetime | None = None) -> list[Path]:
    """``*.jsonl`` under one collection folder, skipping day folders wholly outside the window."""
    files = sorted(root.glob("**/*.jsonl"))
    if since is None and until is None:
        return files
    kept = []
    for f in files:
        day = _day_of(f.relative_to(root))
        if day is not None:
            if since is not None and day < since.date():
                continue
            if until is not None and day > until.date():
                continue
        kept.append(f)
    return kept


def _day_of(rel: Path) -> Any:
    parts = rel.parts
    if len(parts) >= 4 and all(p.isdigit() for p in parts[:3]):
        try:
            return datetime(int(parts[0]), int(parts[1]), int(parts[2]), tzinfo=UTC).date()
        except ValueError:
            return None
    return None


@dataclass
class Collected:
    """Production rows of one collection, already split into named columns."""

    table: Table
    records: int
    files: list[Path]


def parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def read_inputs(
    root: Path,
    feature_names: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    numeric: dict[str, bool] | None = None,
) -> Collected:
    """Model inputs; positional rows are named with ``feature_names`` (the reference's order) and
    typed as in ``numeric`` (the reference's column types), so a string in a numerical column is
    a data type error rather than turning the column categorical."""
    types = numeric or {}
    files = collection_files(root, since, until)
    if not files:
        raise DataError(f"no collected data under {root}" + (f" since {since:%Y-%m-%d}" if since else ""))
    blocks: list[Table] = []
    records = 0
    for f in files:
        fast = _fast_matrix(f, "data", since, until)
        if fast is not None:
            matrix, nrec = fast
            if matrix.shape[0] == 0:
                continue  # every record of this file is outside the window
            if matrix.shape[1] != len(feature_names):
                raise DataError(
                    f"{f}: rows have {matrix.shape[1]} values but the reference has {len(feature_names)} "
                    "features"
                )
            records += nrec
            block = Table()
            for i, n in enumerate(feature_names):
                col = numeric_column(n, np.ascontiguousarray(matrix[:, i]))
                block.columns[n] = col if types.get(n, True) else as_categorical(col)
            blocks.append(block)
            continue
        rows, nrec = _slow_rows(f, feature_names, since, until, outputs=False)
        records += nrec
        blocks.append(_rows_to_table(rows, feature_names, types))
    return Collected(_concat(blocks, feature_names), records, files)


def read_outputs(
    root: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    numeric: bool | None = None,
) -> Collected:
    """Model outputs as one ``prediction`` column (class or value per row)."""
    files = collection_files(root, since, until)
    if not files:
        raise DataError(f"no collected data under {root}" + (f" since {since:%Y-%m-%d}" if since else ""))
    parts: list[Column] = []
    records = 0
    for f in files:
        fast = _fast_vector(f, "predictions", since, until)
        if fast is not None:
            vector, nrec = fast
            records += nrec
            parts.append(_vector_column(PREDICTION_COLUMN, vector, numeric))
            continue
        rows, nrec = _slow_rows(f, [PREDICTION_COLUMN], since, until, outputs=True)
        records += nrec
        parts.append(column_from_values(PREDICTION_COLUMN, [r[0] for r in rows], numeric))
    if numeric is None and len({p.numeric for p in parts}) > 1:
        parts = [as_categorical(p) for p in parts]
    joined = _concat([Table({PREDICTION_COLUMN: p}) for p in parts], [PREDICTION_COLUMN])
    if not joined.rows:
        raise DataError(f"no collected outputs under {root} in the window")
    col = joined.columns[PREDICTION_COLUMN]
    table = Table({PREDICTION_COLUMN: col}, source=str(root))
    return Collected(table, records, files)


def _read_body(
    path: Path, key: str, since: datetime | None, until: datetime | None, value_type: Any = None
) -> tuple[Any, int] | None:
    """The ``data.<key>`` column of a collected file via Arrow (None: use the per-line reader).

    With ``value_type`` only ``time`` and ``data.<key>`` are materialised; the envelope's ids and
    names are skipped, which cuts peak memory by a third on one-row requests."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import json as pajson

    parse = None
    if value_type is not None:
        schema = pa.schema([("time", pa.string()), ("data", pa.struct([(key, value_type)]))])
        parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pajson.read_json(
            path, read_options=pajson.ReadOptions(block_size=64 << 20), parse_options=parse
        )
    except pa.ArrowInvalid:
        return None
    if "data" not in table.column_names:
        return None
    body = table.column("data")
    if not pa.types.is_struct(body.type) or body.type.get_field_index(key) < 0:
        return None
    if (since is not None or until is not None) and "time" in table.column_names:
        try:
            body = body.filter(_time_mask(table.column("time"), since, until))
        except pa.ArrowInvalid:
            return None
    body = body.combine_chunks() if isinstance(body, pa.ChunkedArray) else body
    return pc.struct_field(body, key), len(body)


def _vector_column(name: str, arr: Any, numeric: bool | None) -> Column:
    """A column from an Arrow array of predictions without a Python loop per value."""
    import pyarrow as pa

    is_number = pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)
    if is_number and numeric is not False:
        return numeric_column(name, arr.to_numpy(zero_copy_only=False).astype(np.float64))
    if is_number:
        nums = arr.to_numpy(zero_copy_only=False).astype(np.float64)
        integral = np.isfinite(nums) & (nums == np.round(nums))
        if integral.all():
            # Same text as category(): 1.0 and 1 are the category "1".
            return Column(
                name,
                False,
                nums.astype(np.int64).astype(str),
                np.zeros(nums.size, bool),
                np.zeros(nums.size, bool),
            )
        return column_from_values(name, arr.to_pylist(), numeric=False)
    return column_from_values(name, arr.to_pylist(), numeric)


def _fast_vector(
    path: Path, key: str, since: datetime | None, until: datetime | None
) -> tuple[Any, int] | None:
    import pyarrow as pa

    got = _read_body(path, key, since, until)
    if got is None:
        return None
    values, nrec = got
    if not pa.types.is_list(values.type) or values.null_count:
        return None
    inner = values.type.value_type
    if not (pa.types.is_integer(inner) or pa.types.is_floating(inner) or pa.types.is_string(inner)):
        return None
    return values.flatten(), nrec


def _fast_matrix(
    path: Path, key: str, since: datetime | None, until: datetime | None
) -> tuple[npt.NDArray[np.float64], int] | None:
    """(rows x features float matrix, record count) via Arrow, or None if the file needs the slow path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    got = _read_body(path, key, since, until, pa.list_(pa.list_(pa.float64())))
    if got is None:
        return None
    flat_rows = _numeric_rows(got[0])
    if flat_rows is None:
        return None
    lengths = pc.list_value_length(flat_rows).to_numpy(zero_copy_only=False)
    if lengths.size == 0:
        return np.empty((0, 0)), got[1]
    width = int(lengths[0])
    if not np.all(lengths == width):
        return None  # ragged rows: the slow path reports them
    values = flat_rows.flatten().to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return values.reshape(-1, width), got[1]


def _numeric_rows(rows: Any) -> Any:
    """The bodies' rows as one Arrow list array, or None unless every row is a list of numbers."""
    import pyarrow as pa

    inner = rows.type
    if not pa.types.is_list(inner) or not pa.types.is_list(inner.value_type):
        return None
    leaf = inner.value_type.value_type
    if not (pa.types.is_floating(leaf) or pa.types.is_integer(leaf)) or rows.null_count:
        return None
    flat_rows = rows.flatten()
    return None if flat_rows.null_count else flat_rows


def _time_mask(times: Any, since: datetime | None, until: datetime | None) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    unit = pa.timestamp("us", tz="UTC")
    # Arrow's string->timestamp cast reads ISO 8601 with "Z" or an offset; a file whose times it
    # cannot read goes to the per-line reader through the ArrowInvalid the caller handles.
    ts = pc.cast(times, unit)
    mask = None
    if since is not None:
        mask = pc.greater_equal(ts, pa.scalar(since, type=unit))
    if until is not None:
        m2 = pc.less(ts, pa.scalar(until, type=unit))
        mask = m2 if mask is None else pc.and_(mask, m2)
    return mask


def _in_window(rec: dict[str, Any], since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    t = rec.get("time")
    if not isinstance(t, str):
        return True
    when = parse_time(t)
    return (since is None or when >= since) and (until is None or when < until)


def _slow_rows(
    path: Path,
    names: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    outputs: bool,
) -> tuple[list[list[Any]], int]:
    rows: list[list[Any]] = []
    records = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not JSON: {exc.msg}") from exc
            if not isinstance(rec, dict) or "data" not in rec:
                raise DataError(f"{path}:{lineno}: not a data collector record (no `data` field)")
            if not _in_window(rec, since, until):
                continue
            records += 1
            body = rec["data"]
            got = _output_rows(body) if outputs else _input_rows(body, names)
            if got is None:
                raise DataError(f"{path}:{lineno}: unrecognised {'output' if outputs else 'input'} payload")
            rows.extend(got)
    return rows, records


def _input_rows(body: Any, names: Sequence[str]) -> list[list[Any]] | None:
    if isinstance(body, dict) and isinstance(body.get("input_data"), dict):
        split = body["input_data"]
        cols = split.get("columns")
        data = split.get("data")
        if isinstance(cols, list) and isinstance(data, list):
            index = {c: i for i, c in enumerate(cols)}
            return [[r[index[n]] if n in index and index[n] < len(r) else None for n in names] for r in data]
        return None
    if isinstance(body, dict) and "data" in body:
        body = body["data"]
    if isinstance(body, list):
        out: list[list[Any]] = []
        for r in body:
            if isinstance(r, dict):
                out.append([r.get(n) for n in names])
            elif isinstance(r, list):
                # A short row reads as trailing nulls; a long row's extra values are ignored.
                out.append([r[i] if i < len(r) else None for i in range(len(names))])
            else:
                return None
        return out
    return None


def _output_rows(body: Any) -> list[list[Any]] | None:
    if isinstance(body, dict):
        for key in ("predictions", "prediction", "outputs", "result"):
            if isinstance(body.get(key), list):
                return [[v] for v in body[key]]
        return None
    if isinstance(body, list):
        return [[v] for v in body]
    return None


def _rows_to_table(rows: list[list[Any]], names: Sequence[str], types: dict[str, bool]) -> Table:
    t = Table()
    for i, n in enumerate(names):
        t.columns[n] = column_from_values(n, [r[i] for r in rows], types.get(n))
    return t


def _concat(blocks: Iterable[Table], names: Sequence[str]) -> Table:
    blocks = [b for b in blocks if b.columns and b.rows]
    out = Table()
    if not blocks:
        return out
    if len(blocks) == 1:
        return blocks[0]
    for n in names:
        parts = [b.columns[n] for b in blocks]
        numeric = all(p.numeric for p in parts)
        if numeric:
            out.columns[n] = Column(
                n,
                True,
                np.concatenate([p.values for p in parts]),
                np.concatenate([p.nulls for p in parts]),
                np.concatenate([p.type_errors for p in parts]),
            )
        else:
            vals = np.concatenate([p.values.astype(str) for p in parts])
            out.columns[n] = Column(
                n,
                False,
                vals,
                np.concatenate([p.nulls for p in parts]),
                np.zeros(vals.size, dtype=bool),
            )
    return out


# --- inputs joined to outputs (feature attribution drift) -----------------------------------------


def _arrow_records(
    path: Path, key: str, value_type: Any, since: datetime | None, until: datetime | None
) -> Any:
    """(correlation ids, per-record values) of one file via Arrow, or None for the per-line reader."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import json as pajson

    fields = [("time", pa.string()), ("correlationid", pa.string())]
    if value_type is not None:
        fields.append(("data", pa.struct([(key, value_type)])))
        parse = pajson.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")
    else:
        parse = None
    try:
        table = pajson.read_json(
            path, read_options=pajson.ReadOptions(block_size=64 << 20), parse_options=parse
        )
    except pa.ArrowInvalid:
        return None
    if not {"data", "correlationid"} <= set(table.column_names):
        return None
    body = table.column("data")
    if not pa.types.is_struct(body.type) or body.type.get_field_index(key) < 0:
        return None
    if (since is not None or until is not None) and "time" in table.column_names:
        try:
            mask = _time_mask(table.column("time"), since, until)
        except pa.ArrowInvalid:
            return None
        table = table.filter(mask)
        body = table.column("data")
    values = pc.struct_field(body.combine_chunks(), key)
    if values.null_count or not pa.types.is_list(values.type):
        return None
    return table.column("correlationid").to_pylist(), values


def read_joined(
    inputs_root: Path,
    outputs_root: Path,
    feature_names: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[npt.NDArray[np.float64], list[Any]]:
    """Numerical input rows and the model's prediction for each, joined on ``correlationid``
    (requests without an answer, e.g. failed ones, have inputs but no outputs and are dropped)."""
    import pyarrow as pa

    inputs: dict[str, npt.NDArray[np.float64]] = {}
    for f in collection_files(inputs_root, since, until):
        got = _arrow_records(f, "data", pa.list_(pa.list_(pa.float64())), since, until)
        if got is None:
            raise DataError(
                f'{f}: feature attribution drift needs numerical request rows ({{"data": [[...]]}}) '
                "with a correlationid"
            )
        cids, rows = got
        lengths = np.asarray(rows.value_lengths().to_numpy(zero_copy_only=False))
        flat = rows.flatten()
        widths = np.asarray(flat.value_lengths().to_numpy(zero_copy_only=False))
        if widths.size and not np.all(widths == len(feature_names)):
            raise DataError(f"{f}: rows do not all have {len(feature_names)} values")
        matrix = (
            flat.flatten().to_numpy(zero_copy_only=False).astype(np.float64).reshape(-1, len(feature_names))
        )
        starts = np.concatenate(([0], np.cumsum(lengths)))
        for i, cid in enumerate(cids):
            inputs[cid] = matrix[starts[i] : starts[i + 1]]
    blocks: list[npt.NDArray[np.float64]] = []
    preds: list[Any] = []
    for f in collection_files(outputs_root, since, until):
        got = _arrow_records(f, "predictions", None, since, until)
        if got is None:
            raise DataError(f"{f}: feature attribution drift needs outputs with a `predictions` list")
        cids, values = got
        for cid, p in zip(cids, values.to_pylist(), strict=True):
            rows_in = inputs.get(cid)
            if rows_in is not None and len(rows_in) == len(p):
                blocks.append(rows_in)
                preds.extend(p)
    if not blocks:
        raise DataError(f"no requests in {inputs_root} have a matching answer in {outputs_root}")
    return np.concatenate(blocks), preds
