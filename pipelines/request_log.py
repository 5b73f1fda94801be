"""The serving request log: KServe's payload logger events in, parquet parts of recent serving inputs out.

KServe's logger (``spec.predictor.logger``, mode ``all``) sends every inference request and every successful
response to this sink as CloudEvents, HTTP binary mode (KServe v0.20.0 ``pkg/logger/worker.go``,
``pkg/logger/handler.go``):

- headers ``Ce-Specversion: 1.0``, ``Ce-Id`` (the request's own ``Ce-Id`` or a new UUID; the request and its
  response share it), ``Ce-Type`` ``org.kubeflow.serving.inference.request`` / ``...response``, ``Ce-Source``,
  ``Ce-Time`` (when the request arrived / the response left, RFC 3339), extensions ``Ce-Inferenceservicename``,
  ``Ce-Namespace``, ``Ce-Component``, ``Ce-Endpoint`` (``default`` or ``canary``), ``Ce-Metadata`` (JSON),
  ``Ce-Recordedtime``;
- the body is the request's or the response's raw bytes; ``Content-Type`` is the *request's* content type
  on both events; a response that is not 200 is never logged; the two events come from a pool of workers,
  so either may arrive first.

This module turns a V2 (open inference protocol) request into rows (one per row of its column inputs, as
MLServer's pandas codec sends them) and its response into prediction columns, pairs them by id, and hands
batches to ``store`` as parquet parts in exactly the layout the drift job reads (``pipelines/features.py``):
the entity key (string), ``event_timestamp`` (the request's ``Ce-Time``, UTC), every numeric input as float64
(one schema for every part, whatever the clients send), ``prediction`` (``prediction_<output>`` when the
model has several outputs), and ``request_id``/``endpoint``/``inference_service`` (strings, not features).

Memory is bounded: a request is reduced to its rows when it arrives; at most ``max_pending`` unpaired
events and ``flush_rows`` rows are held; an event body over ``max_body`` bytes is refused (413).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Optional
from urllib.parse import unquote

REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
TIMESTAMP = "event_timestamp"
META_COLUMNS = ("request_id", "endpoint", "inference_service")
NUMERIC = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"}
_FRACTION = re.compile(r"(\.\d{6})\d+")


class BadEvent(ValueError):
    """An event the sink cannot use; the HTTP handler answers 400 with this message."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    time: datetime
    service: str
    endpoint: str
    body: Any


def _header(headers: Mapping[str, str], name: str, required: bool = True) -> str:
    value = headers.get(name, "")
    if required and not value:
        raise BadEvent(f"missing CloudEvent header {name}")
    # The CloudEvents HTTP binding percent-encodes some characters of attribute values.
    return unquote(value)


def parse_time(text: str) -> datetime:
    """RFC 3339 as Go writes it (up to nanoseconds, ``Z`` or an offset) -> aware UTC datetime."""
    try:
        value = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"ce-time {text!r} is not an RFC 3339 time") from None
    if value.tzinfo is None:
        raise BadEvent(f"ce-time {text!r} has no time zone")
    return value.astimezone(timezone.utc)


def parse_event(headers: Mapping[str, str], body: bytes) -> Event:
    """One CloudEvent in binary mode (``headers`` with lower-case names)."""
    if _header(headers, "ce-specversion") != "1.0":
        raise BadEvent(f"ce-specversion {headers.get('ce-specversion')!r}: only CloudEvents 1.0 is understood")
    kind = _header(headers, "ce-type")
    if kind not in (REQUEST_TYPE, RESPONSE_TYPE):
        raise BadEvent(f"ce-type {kind!r} is not {REQUEST_TYPE} or {RESPONSE_TYPE}")
    try:
        payload = json.loads(body)
    except ValueError:
        raise BadEvent(f"{kind} {headers.get('ce-id')!r}: the body is not JSON (V2 inference protocol)") from None
    if not isinstance(payload, dict):
        raise BadEvent(f"{kind}: the body is not a JSON object")
    return Event(id=_header(headers, "ce-id"), type=kind, time=parse_time(_header(headers, "ce-time")),
                 service=_header(headers, "ce-inferenceservicename", False),
                 endpoint=_header(headers, "ce-endpoint", False), body=payload)


def _flat(data: Any) -> list:
    if isinstance(data, list):
        return [v for item in data for v in _flat(item)]
    return [data]


def _columns(tensors: Any, what: str) -> dict[str, list]:
    """Tensors of shape [n] or [n, 1] -> {name: n values}; one column per tensor, as the pandas codec sends."""
    if not isinstance(tensors, list) or not tensors:
        raise BadEvent(f"{what}: no tensors")
    columns: dict[str, list] = {}
    for tensor in tensors:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise BadEvent(f"{what}: a tensor without a name")
        shape, values = tensor.get("shape") or [], _flat(tensor.get("data", []))
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1) or len(values) != shape[0]:
            raise BadEvent(f"{what}: tensor {tensor['name']!r} has shape {shape}; the log keeps one column per "
                           f"tensor (shape [n] or [n, 1], MLServer's pandas codec)")
        columns[tensor["name"]] = values if tensor.get("datatype") in NUMERIC else [str(v) for v in values]
    if len({len(v) for v in columns.values()}) != 1:
        raise BadEvent(f"{what}: tensors of different lengths")
    return columns


def request_rows(event: Event, entity: str) -> list[dict[str, Any]]:
    """The rows of a logged V2 request: numeric inputs as floats; the entity from an input of that name,
    else ``<request id>/<row>`` (the model's inputs need not carry it)."""
    inputs = _columns(event.body.get("inputs"), f"request {event.id}")
    count = len(next(iter(inputs.values())))
    rows = []
    for i in range(count):
        row: dict[str, Any] = {entity: str(inputs[entity][i]) if entity in inputs else f"{event.id}/{i}",
                               TIMESTAMP: event.time, "request_id": event.id, "endpoint": event.endpoint,
                               "inference_service": event.service}
        for name, values in inputs.items():
            if name != entity and not isinstance(values[i], str):
                row[name] = None if values[i] is None else float(values[i])
        rows.append(row)
    return rows


def predictions(event: Event) -> dict[str, list]:
    outputs = {k: v for k, v in _columns(event.body.get("outputs"), f"response {event.id}").items()
               if not any(isinstance(x, str) for x in v)}
    if len(outputs) == 1:
        return {"prediction": [float(x) for x in next(iter(outputs.values()))]}
    return {f"prediction_{name}": [float(x) for x in values] for name, values in outputs.items()}


def to_parquet(rows: list[dict[str, Any]], entity: str) -> bytes:
    """One part: strings for the entity and the request metadata, UTC timestamps, float64 for the rest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = sorted({k for row in rows for k in row} - {entity, TIMESTAMP, *META_COLUMNS})
    fields = [pa.field(entity, pa.string()), pa.field(TIMESTAMP, pa.timestamp("us", tz="UTC")),
              *(pa.field(n, pa.float64()) for n in names), *(pa.field(m, pa.string()) for m in META_COLUMNS)]
    schema = pa.schema(fields)
    table = pa.Table.from_pylist([{f.name: row.get(f.name) for f in fields} for row in rows], schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


@dataclass
class Counters:
    events: int = 0
    rows_written: int = 0
    parts_written: int = 0
    unanswered: int = 0       # requests written without a prediction (no 200 response within pair_seconds)
    orphan_responses: int = 0  # responses whose request never came (dropped)
    evicted: int = 0          # pending events pushed out by max_pending
    write_failures: int = 0
    rows_dropped: int = 0     # rows lost because writes kept failing and the buffer was full
    last_error: str = ""


@dataclass
class RequestLog:
    """Pairs request and response events and writes parts through ``store(rows_bytes) -> object name``."""

    store: Callable[[bytes], str]
    entity: str
    flush_rows: int = 5000
    flush_seconds: float = 300.0
    max_pending: int = 2000
    pair_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    encode: Callable[[list, str], bytes] = to_parquet  # rows, entity -> the part's bytes
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: "OrderedDict[str, tuple[str, float, Any]]" = OrderedDict()
        self._rows: list[dict[str, Any]] = []
        self._first_row_at: Optional[float] = None

    def add(self, event: Event) -> None:
        part = request_rows(event, self.entity) if event.type == REQUEST_TYPE else predictions(event)
        with self._lock:
            self.counters.events += 1
            now = self.clock()
            other = self._pending.pop(event.id, None)
            if other is None:
                self._pending[event.id] = (event.type, now, part)
                while len(self._pending) > self.max_pending:
                    self.counters.evicted += 1
                    self._settle(self._pending.popitem(last=False)[1])
            elif other[0] == event.type:
                raise BadEvent(f"{event.type} {event.id!r} logged twice")
            else:
                rows, preds = (part, other[2]) if event.type == REQUEST_TYPE else (other[2], part)
                self._append(rows, preds)
            full = len(self._rows) >= self.flush_rows
        if full:
            self.flush()

    def _append(self, rows: list[dict[str, Any]], preds: Optional[dict[str, list]]) -> None:
        for i, row in enumerate(rows):
            if preds:
                row.update({k: (v[i] if i < len(v) else None) for k, v in preds.items()})
            self._rows.append(row)
        if self._rows and self._first_row_at is None:
            self._first_row_at = self.clock()

    def _settle(self, pending: tuple[str, float, Any]) -> None:
        kind, _, part = pending
        if kind == REQUEST_TYPE:
            self.counters.unanswered += 1
            self._append(part, None)
        else:
            self.counters.orphan_responses += 1

    def tick(self) -> None:
        """Settle events that waited ``pair_seconds`` for their partner; flush when the oldest row is due."""
        with self._lock:
            now = self.clock()
            while self._pending and now - next(iter(self._pending.values()))[1] >= self.pair_seconds:
                self._settle(self._pending.popitem(last=False)[1])
            due = self._first_row_at is not None and now - self._first_row_at >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows, self._first_row_at = self._rows, [], None
        if not rows:
            return
        try:
            self.store(self.encode(rows, self.entity))
        except Exception as error:  # the store is down: keep the rows for the next flush, up to the bound
            with self._lock:
                self.counters.write_failures += 1
                self.counters.last_error = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
                keep = rows + self._rows
                limit = max(self.flush_rows * 2, 1)
                self.counters.rows_dropped += max(0, len(keep) - limit)
                self._rows = keep[-limit:]
                self._first_row_at = self.clock()
            return
        with self._lock:
            self.counters.rows_written += len(rows)
            self.counters.parts_written += 1

    def close(self) -> None:
        """On shutdown: requests still waiting are written without a prediction, then the last part."""
        with self._lock:
            while self._pending:
                self._settle(self._pending.popitem(last=False)[1])
        self.flush()
