"""Structured logs: one JSON object per line in production (LOG_FORMAT=json), with the request id,
and the notification id and order number where the code knows them.

What a log line is about lives in context variables, so it follows the request or task through
every function without being passed along: the middleware binds ``request_id`` (and
``order_number`` for /orders/<number>/ pages), the worker binds ``task_id`` and
``notification_id`` before a delivery task runs (ops.signals), and any code can add more with
``with bind(order_number=...):``. No Django imports here: settings import this module.
"""
import contextlib
import contextvars
import logging

from pythonjsonlogger.json import JsonFormatter

FIELDS = ("request_id", "task_id", "notification_id", "order_number", "user_id")
_context: contextvars.ContextVar[dict] = contextvars.ContextVar("log_context", default={})


def current() -> dict:
    return dict(_context.get())


def start(**values) -> None:
    """Replace the whole log context (the start of a request)."""
    _context.set({k: v for k, v in values.items() if v is not None})


def bind_values(**values) -> contextvars.Token:
    """Add values to the log context until ``unbind(token)``; None values are dropped."""
    merged = dict(_context.get())
    merged.update({k: v for k, v in values.items() if v is not None})
    return _context.set(merged)


def unbind(token: contextvars.Token) -> None:
    _context.reset(token)


@contextlib.contextmanager
def bind(**values):
    token = bind_values(**values)
    try:
        yield
    finally:
        unbind(token)


class ContextFilter(logging.Filter):
    """Copies the log context onto every record (empty string where unknown, so the plain format
    never fails)."""

    def filter(self, record):
        ctx = _context.get()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, ctx.get(name, ""))
        return True


class JsonLogFormatter(JsonFormatter):
    """python-json-logger with a fixed set of top-level keys; empty context fields are left out."""

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        for name in FIELDS:
            if log_record.get(name) in ("", None):
                log_record.pop(name, None)


def logging_config(log_format: str, level: str) -> dict:
    """The LOGGING dict: ``json`` (production) or ``plain`` (development)."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "ops.logs.JsonLogFormatter",
                 "format": "%(asctime)s %(message)s %(process)d %(request_id)s %(task_id)s %(notification_id)s "
                           "%(order_number)s %(user_id)s",
                 "datefmt": "%Y-%m-%dT%H:%M:%S%z",
                 "rename_fields": {"asctime": "time"}},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "ops.logs.ContextFilter"}},
        "formatters": formatters,
        "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"],
                                 "formatter": "json" if log_format == "json" else "plain"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
