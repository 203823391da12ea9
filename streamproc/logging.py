"""Structured logging: one JSON object per line on stderr, with no PHI.

Log calls pass structured fields through ``extra={...}``. Only allow-listed, non-identifying
field names reach the output; anything else (a stray ``text=`` or ``patient=``) is dropped, and
exception tracebacks are reduced to the exception type and the frames, never the message (which
might quote input). Faust and aiokafka use the same handler via :func:`logging_config`.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

# Fields that may appear in a log line. Keep this list free of anything that can hold PHI.
SAFE_FIELDS = frozenset(
    {
        "code",
        "stage",
        "topic",
        "partition",
        "offset",
        "source",  # SourceRef.dedup_key(): topic/partition/offset, no content
        "notes",
        "count",
        "ms",
        "seconds",
        "reason",
        "child",
        "pid",
        "address",
        "kafka_brokers",
        "redis_url",
        "metrics",
        "event_id",  # a hash-derived id, not a source identifier
        "error_type",
        "batch",
        "outputs",
        "worker",
        "partitions",
        "topics",
        "created",
        "version",
        "lag",
    }
)

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...safe extras}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": _message(record),
        }
        for key, value in record.__dict__.items():
            if key in _RESERVED or key.startswith("_"):
                continue
            if key in SAFE_FIELDS:
                out[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            out["error_type"] = exc_type.__name__
            # Frames only (file, line, function): the exception message may quote input.
            out["stack"] = [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb)]
        return json.dumps(out, default=str)


def _message(record: logging.LogRecord) -> str:
    # Our own loggers use constant messages; third-party ones (faust, aiokafka) use %-args that
    # carry topic names and offsets, which are safe. Note text never passes through them.
    try:
        return record.getMessage()
    except Exception:
        return str(record.msg)


def logging_config(level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """A ``dictConfig`` mapping (also handed to Faust's worker, which would otherwise install its own)."""
    formatter = (
        {"()": "streamproc.logging.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            # aiokafka is chatty at INFO during rebalances; keep warnings.
            "aiokafka": {"level": "WARNING"},
            "kafka": {"level": "WARNING"},
            # pypdf's warnings name objects and strings of the document it reads: never logged.
            "pypdf": {"level": "CRITICAL"},
        },
    }


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    # transformers logs a multi-line "LOAD REPORT" (the base encoder loads without our task head,
    # which is applied right after) and progress bars on its own stderr handler: operators need
    # neither. Read by transformers at import, so set before any model module imports it.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    logging.config.dictConfig(logging_config(level, fmt))
    logging.captureWarnings(True)
    sys.excepthook = _excepthook


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    logging.getLogger("streamproc").critical("uncaught exception", exc_info=(exc_type, exc, tb))
