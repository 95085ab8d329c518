"""Generation tests with the real model (a package: its conftest must not shadow tests/conftest)."""
