"""`sec-digester topics create` and `schemas register|check`: what a cluster (local or not)
needs before the services start. Compose's `setup` container runs them."""
