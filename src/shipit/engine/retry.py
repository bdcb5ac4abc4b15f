"""Failure classification and retry: transient failures are retried, permanent ones stop.

Transient: connection reset/refused, timeouts, HTTP 408/429/5xx, npm E429/E5xx/ECONNRESET/
ETIMEDOUT/EAI_AGAIN. Permanent: 401/403/404, validation errors, version exists with other
content. ``OutcomeUnknown`` marks a request that may have taken effect (upload sent, answer
lost): the orchestrator probes before it retries.
"""

from __future__ import annotations

from shipit.errors import ShipitError


class StepFailure(ShipitError):
    """Base of classified step failures."""

    code = "step-failed"


class TransientError(StepFailure):
    """Worth retrying. ``retry_after`` (seconds) is honoured when the server sent one."""

    code = "transient"

    def __init__(self, what: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(what, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class OutcomeUnknown(TransientError):
    """The effect may have happened (connection dropped after sending): probe, then retry."""

    code = "outcome-unknown"


class PermanentError(StepFailure):
    """Retrying cannot help: bad token, forbidden, conflict, validation error."""

    code = "permanent"
