"""Structured JSON logs carrying the request id."""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of msg
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(level: str) -> dict[str, Any]:
    """The whole logging set-up as a ``logging.config.dictConfig`` dictionary.

    A dictionary rather than calls, because uvicorn's worker processes (``--workers 2``) are
    fresh interpreters: uvicorn applies its ``log_config`` in each of them, and nothing else
    the parent configured reaches them.
    """
    numeric = logging.getLevelName(level)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.core.logging.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # The access log is ours (with the request id and route); uvicorn's would repeat it.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
            # /readyz asks Alembic for the revision; its INFO lines would repeat on every probe.
            "alembic": {"level": logging.getLevelName(max(logging.WARNING, numeric))},
        },
    }


def configure_logging(level: str) -> None:
    logging.config.dictConfig(logging_config(level))
