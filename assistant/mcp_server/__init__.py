"""The MCP server (official ``mcp`` SDK): the assistant's answers, search, catalog and networks as tools,
and the documents as resources — over stdio (``assistant mcp``) or Streamable HTTP at ``/mcp``."""
