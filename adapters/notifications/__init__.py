"""The notification worker: delivers approved notices over SMTP and commits `NoticeSent`."""
