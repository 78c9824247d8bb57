"""`sec-digester alerts`: high-priority filings to Discord and webhooks, each exactly once."""
