"""The web console (`/console`): a reviewer inbox, cases, audit diagrams and operations for the
people in the loop, server-rendered (Jinja2) with htmx shipped in this package. It calls the
same command and query services as the HTTP API, as the signed-in user; see `app`."""
