"""`sec-digester mcp`: the gateway's MCP tools on stdio, for desktop clients (relayed to /mcp)."""
