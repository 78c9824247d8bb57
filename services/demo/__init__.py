"""`sec-digester demo`: the whole pipeline, locally, on the bundled recorded EDGAR corpus."""
