"""One module per form family, each turning a filing's documents into typed facts."""
