"""The filings store: a materialized view of the analyzed topic in a database (SQLite), fed
exactly once from Kafka (feeder.py), queried by the stream's filters and full text (query.py).

A package of its own rather than a part of the gateway: the gateway serves it over REST, and
anything else that answers questions about history (an MCP server, an export by query) reads
the same store through the same query, without importing the gateway.
"""
