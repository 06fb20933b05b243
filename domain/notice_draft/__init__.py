"""The NoticeDraft aggregate (stream `noticedraft-<id>`): content versions, approval, sending."""
