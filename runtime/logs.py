"""Structured, one-line-per-event logging with the job id on every line that has one."""

from __future__ import annotations

import logging
import os


class _JobFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = getattr(record, "job_id", "-")
        record.stage = getattr(record, "stage", "-")
        return True


def configure_logging(service: str, level: str | None = None) -> None:
    """Log to stderr as `time level service stage job_id logger: message`."""
    handler = logging.StreamHandler()
    handler.addFilter(_JobFields())
    handler.setFormatter(
        logging.Formatter(
            f"%(asctime)s %(levelname)s {service} stage=%(stage)s job=%(job_id)s %(name)s: %(message)s"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("AODIO_LOG_LEVEL", "INFO")).upper())
    for noisy in ("nats", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
