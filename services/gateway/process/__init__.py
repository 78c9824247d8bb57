"""The gateway as processes: one uvicorn server (with its request-head deadline) and the
`--workers N` parent that runs several on one port."""
