"""The merchant contract, the HTTP client base, the ACP client: models."""
