"""The stream machinery: a client's session, the shared tail's ring and fan-out, the replay
transcoding (Avro to JSON), pre-framed WebSocket frames, and durable acknowledgements. The
filters themselves live in services/common/filters.py, because the filings store queries by
them too."""
