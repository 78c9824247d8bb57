"""`python -m services` is `sec-digester`."""

from services.cli import main

main()
