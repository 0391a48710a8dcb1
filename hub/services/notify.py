"""Sending incident notifications: e-mail through the configured SMTP server (``smtplib``)
and a JSON POST to the configured webhook (``httpx``). Each attempt returns an
:class:`Attempt` instead of raising, so the caller records a failure and goes on: a dead
mail server never loses the incident (docs/incident-response.md, "Notifications")."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from hub.settings import HubSettings


@dataclass(frozen=True)
class Attempt:
    """One notification: ``channel`` email or webhook, the address or URL, and the error
    (empty when sent)."""

    channel: str
    target: str
    error: str = ""

    @property
    def sent(self) -> bool:
        return not self.error


@dataclass
class Notifier:
    """Where notifications go; built from the settings (:meth:`from_settings`), tests pass
    their own servers and an httpx transport."""

    smtp_host: str = ""
    smtp_port: int = 25
    sender: str = "fedlink-hub@localhost"
    starttls: bool = False
    timeout: float = 10.0
    webhook_url: str = ""
    transport: httpx.BaseTransport | None = None

    @classmethod
    def from_settings(cls, settings: HubSettings,
                      transport: httpx.BaseTransport | None = None) -> Notifier:
        return cls(smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                   sender=settings.smtp_sender, starttls=settings.smtp_starttls,
                   timeout=settings.smtp_timeout_seconds,
                   webhook_url=settings.incident_webhook_url, transport=transport)

    def email(self, recipients: list[str], *, subject: str, body: str) -> list[Attempt]:
        """One message per recipient (so one refused address does not hide the others);
        nothing when no SMTP host is configured."""
        if not self.smtp_host or not recipients:
            return []
        attempts = []
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                for address in recipients:
                    attempts.append(self._send(smtp, address, subject, body))
        except (OSError, smtplib.SMTPException) as exc:
            done = {a.target for a in attempts}
            attempts += [Attempt("email", a, _error(exc)) for a in recipients if a not in done]
        return attempts

    def _send(self, smtp: smtplib.SMTP, address: str, subject: str, body: str) -> Attempt:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, subject
        message.set_content(body)
        try:
            smtp.send_message(message)
        except smtplib.SMTPException as exc:
            return Attempt("email", address, _error(exc))
        return Attempt("email", address)

    def webhook(self, payload: dict[str, Any]) -> list[Attempt]:
        """POST ``payload`` as JSON; a non-2xx answer counts as a failure."""
        if not self.webhook_url:
            return []
        try:
            with httpx.Client(transport=self.transport, timeout=self.timeout) as client:
                response = client.post(self.webhook_url, json=payload)
        except httpx.HTTPError as exc:
            return [Attempt("webhook", self.webhook_url, _error(exc))]
        if not response.is_success:
            return [Attempt("webhook", self.webhook_url, f"HTTP {response.status_code}")]
        return [Attempt("webhook", self.webhook_url)]


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
