"""Notify: webhooks. Observes the end of every job (summary.completed, job.failed) and POSTs it.

Each job may name its own `webhook_url`; a deployment may add one for every job
(AODIO_NOTIFY_WEBHOOK_URL). Bodies are signed with HMAC-SHA256 when AODIO_NOTIFY_WEBHOOK_SECRET is
set (services/notify/signing.py says how a receiver verifies them). A receiver that is down or busy
(408, 429, 5xx, a timeout) is retried by JetStream; one that refuses (another 4xx) fails only this
stage, never the job. Every URL's answer is kept as a receipt, so a retry skips the URLs already done.
"""
