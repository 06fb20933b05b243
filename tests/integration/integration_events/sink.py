"""The SMTP sink on loopback the demo uses, for the tests too."""

from caseledger.adapters.notifications.sink import SmtpSink

__all__ = ["SmtpSink"]
