"""The MCP server for agents (seed §25): queries as tools, commands as proposals, nothing else
that writes. Identity comes from the server's configuration or the session's bearer token."""
