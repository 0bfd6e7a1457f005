"""Fixtures for tests that talk to the sandbox merchant over real HTTP (a pytest plugin)."""
