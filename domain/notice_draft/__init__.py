"""The NoticeDraft aggregate (stream `noticedraft-<tenant>_<id>`): content versions, approval,
sending."""
