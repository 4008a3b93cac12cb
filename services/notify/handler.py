"""The notify stage: a job that completed or failed is POSTed, as signed JSON, to each webhook URL.

Delivery is at least once. Each URL's answer for good (2xx, or a refusal) is kept as a receipt under
the job's prefix in storage, keyed by the delivery id, so a retry skips the URLs already answered;
the X-Aodio-Delivery header carries that id, the same on every retry, so receivers can drop repeats.
Every URL goes through the egress guard (runtime/egress.py): one that reaches a private, loopback or
metadata address is not called, and that refusal is kept as a receipt like a receiver's refusal.
Redirects are not followed: a 3xx is the receiver's answer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal
from urllib.parse import urlsplit

import httpx
import msgspec

from contracts import keys
from contracts.events import JobFailed, PipelineEvent, SummaryCompleted
from contracts.pipeline import NOTIFY
from contracts.state import JobState
from contracts.subjects import message_id
from runtime.egress import EgressPolicy, EgressRefused
from runtime.egress_http import guarded_client
from runtime.errors import PermanentError, RetryableError
from runtime.inputs import expect_input
from runtime.stage import Outcome, StageContext
from runtime.storage.base import ObjectNotFound, Storage
from services.notify.config import NotifySettings
from services.notify.signing import sign

STAGE = "notify"
USER_AGENT = "Aodio-Webhook/1"
RETRYABLE_STATUS = frozenset({408, 425, 429})  # and every 5xx

WebhookEvent = Literal["job.completed", "job.failed"]


class Links(msgspec.Struct, frozen=True, kw_only=True):
    """Where the job's results are read; transcript and summary are null for a failed job."""

    job: str
    transcript: str | None
    summary: str | None
    events: str


class WebhookBody(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON body of every delivery."""

    event: WebhookEvent
    job_id: str
    status: Literal["completed", "failed"]
    original_name: str
    duration_s: float | None
    language: str | None
    error: str | None
    failed_stage: str | None
    links: Links
    sent_at: float


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What one URL answered for good to one delivery."""

    delivery: str
    host: str
    status_code: int  # 0: never called, the egress guard refused the URL
    delivered: bool
    reason: str
    answered_at: float


_encoder = msgspec.json.Encoder()
_receipt_decoder = msgspec.json.Decoder(Receipt)


class NotifyHandler:
    stage = STAGE  # an observer in the pipeline graph: sees failed jobs too, its failure never fails the job

    def __init__(self, settings: NotifySettings, egress: EgressPolicy | None = None) -> None:
        self.settings = settings
        self.egress = egress or EgressPolicy()  # none given: public addresses only
        self._client = guarded_client(
            self.egress, timeout=httpx.Timeout(settings.timeout_s), headers={"User-Agent": USER_AGENT}
        )

    async def handle(self, event: PipelineEvent, ctx: StageContext) -> Outcome:
        event = expect_input(NOTIFY, event)
        urls = self.urls_for(ctx.job)
        if not urls:
            return Outcome(update=lambda state: _note(state, "no webhook configured"))
        body = self.body_for(event, ctx.job)
        payload = _encoder.encode(body)
        delivered: list[Receipt] = []
        retry: list[str] = []
        refused: list[str] = []
        for index, url in enumerate(urls):
            delivery = f"{message_id(event)}.{index}"
            try:
                delivered.append(await self._deliver(url, delivery, body.event, payload, ctx))
            except RetryableError as exc:
                retry.append(exc.reason)
            except PermanentError as exc:
                refused.append(exc.reason)
        done = "delivered to " + ", ".join(f"{r.host} (HTTP {r.status_code})" for r in delivered)
        if retry:  # the refusals are kept as receipts: the retry only calls the URLs that may yet answer
            raise RetryableError("; ".join([*retry, *refused, *([done] if delivered else [])]))
        if refused:
            raise PermanentError("; ".join([*refused, *([done] if delivered else [])]))
        return Outcome(update=lambda state: _note(state, done))

    def urls_for(self, job: JobState) -> list[str]:
        """The job's own webhook URL, then the deployment's, without repeats."""
        return list(dict.fromkeys(u for u in (job.options.webhook_url, self.settings.webhook_url) if u))

    def body_for(self, event: SummaryCompleted | JobFailed, job: JobState) -> WebhookBody:
        """What one delivery POSTs; the job state gives what the event does not carry."""
        failed = event if isinstance(event, JobFailed) else None
        base = f"{self.settings.public_url or ''}/v1/jobs/{event.job_id}"
        return WebhookBody(
            event="job.failed" if failed else "job.completed",
            job_id=event.job_id,
            status="failed" if failed else "completed",
            original_name=job.original_name,
            duration_s=job.duration_s,
            language=job.language,
            error=failed.reason if failed else None,
            failed_stage=failed.stage if failed else None,
            links=Links(
                job=base,
                transcript=None if failed else f"{base}/transcript",
                summary=None if failed else f"{base}/summary",
                events=f"{base}/events",
            ),
            sent_at=round(time.time(), 3),
        )

    async def _deliver(
        self, url: str, delivery: str, event_name: str, payload: bytes, ctx: StageContext
    ) -> Receipt:
        """POST once, unless an earlier attempt got an answer for good; returns a 2xx's receipt."""
        key = receipt_key(ctx.job.job_id, delivery)
        receipt = await asyncio.to_thread(_read_receipt, ctx.storage, key)
        if receipt is None:
            try:
                status, phrase = await self._post(url, delivery, event_name, payload)
            except EgressRefused as exc:  # for good, like a 4xx: kept, so a retry does not try it again
                status, reason = 0, f"webhook {shown(url)} was not called: {exc.reason}"
                ctx.log.warning("%s (delivery %s)", reason, delivery)
            else:
                ctx.log.info("webhook %s answered HTTP %d to %s", shown(url), status, delivery)
                if status in RETRYABLE_STATUS or status >= 500:
                    raise RetryableError(f"webhook {shown(url)} answered {_http(status, phrase)}: will retry")
                reason = _refusal(url, status, phrase)
            receipt = Receipt(
                delivery=delivery,
                host=host_of(url),
                status_code=status,
                delivered=not reason,
                reason=reason,
                answered_at=time.time(),
            )
            await asyncio.to_thread(ctx.storage.put_bytes, key, _encoder.encode(receipt), "application/json")
        if not receipt.delivered:
            raise PermanentError(receipt.reason)
        return receipt

    async def _post(self, url: str, delivery: str, event_name: str, payload: bytes) -> tuple[int, str]:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Aodio-Event": event_name,
            "X-Aodio-Delivery": delivery,
            "X-Aodio-Timestamp": str(timestamp),
        }
        if self.settings.webhook_secret is not None:
            headers["X-Aodio-Signature"] = sign(
                self.settings.webhook_secret.get_secret_value(), timestamp, payload
            )
        self.egress.check_url(url)  # a refused IP literal in any spelling, before httpx parses it
        try:
            async with asyncio.timeout(self.settings.timeout_s):  # the whole exchange, not each read
                async with self._client.stream("POST", url, content=payload, headers=headers) as answer:
                    return answer.status_code, answer.reason_phrase  # the body is never read
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise PermanentError(f"webhook {shown(url)} cannot be called: {exc}") from exc
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise RetryableError(
                f"webhook {shown(url)} did not answer within {self.settings.timeout_s:g} s: will retry"
            ) from exc
        except httpx.TransportError as exc:
            raise RetryableError(
                f"webhook {shown(url)} could not be reached ({type(exc).__name__}: {exc}): will retry"
            ) from exc

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.aclose()


def receipt_key(job_id: str, delivery: str) -> str:
    """Where one delivery's receipt is kept; deleted with the job."""
    return f"{keys.job_prefix(job_id)}notify/{keys.safe_file_name(delivery)}.json"


def host_of(url: str) -> str:
    """host[:port] of a URL, without credentials."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or url


def shown(url: str) -> str:
    """A URL for messages and logs: its path and query may hold a token, so they are left out."""
    return f"{urlsplit(url).scheme}://{host_of(url)}/..."


def _refusal(url: str, status: int, phrase: str) -> str:
    """Why a receiver's answer for good is a refusal; empty for a 2xx."""
    if 200 <= status < 300:
        return ""
    return f"webhook {shown(url)} refused the delivery: {_http(status, phrase)}"


def _http(status: int, phrase: str) -> str:
    return f"HTTP {status} {phrase}".strip()


def _read_receipt(storage: Storage, key: str) -> Receipt | None:
    try:
        return _receipt_decoder.decode(storage.get_bytes(key))
    except ObjectNotFound:
        return None


def _note(state: JobState, message: str) -> None:
    state.stage(STAGE).message = message
