"""The Causeway hub: the acquiring API, the payment engine, the ledger and the CLI."""
