"""Delivering a notice over SMTP (`smtplib`). SMTP is not exactly-once: the worker may send the
same message twice after a crash, always under the same `Message-ID`."""

from __future__ import annotations

import hashlib
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol


def notice_message_id(tenant_id: str, draft_id: str, digest: str, domain: str) -> str:
    """The deterministic Message-ID of the approved content `digest` of a notice: every attempt
    at sending it carries this id, so the recipient can see one distinct message."""
    key = hashlib.sha256(f"{tenant_id}\x1f{draft_id}\x1f{digest}".encode()).hexdigest()[:40]
    return f"<notice.{key}@{domain}>"


@dataclass(frozen=True)
class Notice:
    message_id: str
    sender: str
    recipient: str
    subject: str
    body: str
    draft_id: str
    digest: str

    def email(self) -> EmailMessage:
        message = EmailMessage()
        message["Message-ID"] = self.message_id
        message["From"] = self.sender
        message["To"] = self.recipient
        message["Subject"] = self.subject
        message["X-Caseledger-Notice"] = self.draft_id
        message["X-Caseledger-Digest"] = self.digest
        message.set_content(self.body)
        return message


class Mailer(Protocol):
    def send(self, notice: Notice) -> None:
        """Deliver or raise; returning means the server accepted the message."""
        ...


class SmtpMailer:
    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def send(self, notice: Notice) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(notice.email())
