"""The ways in: WebSocket and SSE streams, REST over the filings store, and their OpenAPI
document. Each transport admits a request, parses it with the stream's filters and hands it to
the stream machinery or the store; none of them knows another."""
