"""Read a local W&B run back from its transaction log, run-<id>.wandb: the resolved config, the
summary, every history row and the artifacts, with no server and no account (offline runs).

The file is a LevelDB-style log (github.com/google/leveldb/blob/main/doc/log_format.md) of W&B's
own protocol buffer messages, wandb.proto.wandb_internal_pb2.Record. The log: a 7-byte header
(":W&B", magic 0xBEE1 little-endian, version 0), then 32 KiB blocks of chunks, each
crc32 (uint32, of the type byte then the data) | length (uint16) | type (uint8: 1 full,
2 first, 3 middle, 4 last) | data; a block's tail shorter than a chunk header is zero padding.
"""

import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from wandb.proto import wandb_internal_pb2

_FILE_HEADER = struct.pack("<4sHB", b":W&B", 0xBEE1, 0)
_CHUNK = struct.Struct("<IHB")
_BLOCK_BYTES = 32 * 1024
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


@dataclass
class RunLog:
    """What one W&B run folder recorded. Keys of nested values are joined with "." (a metric
    named "train/loss" keeps its name); values are decoded from their JSON."""

    run_id: str = ""
    project: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    # W&B's records of where the run ran: args, program, git commit, host, cpu, gpu, ...
    environment: dict[str, Any] = field(default_factory=dict)

    def metric(self, key: str) -> list[Any]:
        """The logged values of one history key, in order."""
        return [row[key] for row in self.history if key in row]


def _item_key(item) -> str:
    return ".".join(item.nested_key) if item.nested_key else item.key


def _decode(items) -> dict[str, Any]:
    return {_item_key(item): json.loads(item.value_json) for item in items}


def records(path: str | os.PathLike) -> Iterator[wandb_internal_pb2.Record]:
    """The records of a run-<id>.wandb file in order; a chunk cut short at the end of the file
    (a run still writing) ends the iteration, a checksum mismatch raises ValueError."""
    data = Path(path).read_bytes()
    if not data.startswith(_FILE_HEADER):
        raise ValueError(f"{path} is not a W&B transaction log: it lacks the :W&B header")
    position, pending = len(_FILE_HEADER), b""
    while position + _CHUNK.size <= len(data):
        left_in_block = _BLOCK_BYTES - position % _BLOCK_BYTES
        if left_in_block < _CHUNK.size:
            position += left_in_block
            continue
        checksum, length, kind = _CHUNK.unpack_from(data, position)
        start = position + _CHUNK.size
        chunk = data[start : start + length]
        if len(chunk) < length:
            return
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != checksum:
            raise ValueError(f"{path}: checksum mismatch in the chunk at byte {position}")
        position = start + length
        pending = chunk if kind in (_FULL, _FIRST) else pending + chunk
        if kind in (_FULL, _LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def transaction_log(run_dir: str | os.PathLike) -> Path:
    """The run-<id>.wandb file of a run folder (or the file itself)."""
    run_dir = Path(run_dir)
    if run_dir.is_file():
        return run_dir
    found = sorted(run_dir.glob("run-*.wandb"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one run-<id>.wandb file in {run_dir}, found {[p.name for p in found]}"
        )
    return found[0]


def read_run_log(run_dir: str | os.PathLike) -> RunLog:
    """Everything one run folder (e.g. wandb/offline-run-<time>-<id>) recorded; see RunLog."""
    log = RunLog()
    for record in records(transaction_log(run_dir)):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            log.run_id, log.project = record.run.run_id, record.run.project
            log.config.update(_decode(record.run.config.update))
        elif kind == "config":
            log.config.update(_decode(record.config.update))
        elif kind == "summary":
            log.summary.update(_decode(record.summary.update))
            for item in record.summary.remove:
                log.summary.pop(_item_key(item), None)
        elif kind == "history":
            log.history.append(_decode(record.history.item))
        elif kind == "artifact":
            artifact = record.artifact
            log.artifacts.append(
                {"name": artifact.name, "type": artifact.type, "aliases": list(artifact.aliases)}
            )
        elif kind == "exit":
            log.exit_code = record.exit.exit_code
        elif kind == "environment":
            log.environment.update(
                MessageToDict(record.environment, preserving_proto_field_name=True)
            )
    return log
