"""`sec-digester export`: a topic range, decoded, to JSON lines or Parquet (no gateway)."""
