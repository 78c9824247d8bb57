"""Avro schemas of the records (shipped inside the package as services.schemas)."""
