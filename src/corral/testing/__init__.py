"""The property-based conformance suite: random derivations of a grammar (soundness) and random
walks over an engine's allowed tokens (compliance), runnable on any grammar and any engine."""

from __future__ import annotations

from corral.testing.derivations import DerivationSampler

__all__ = ["DerivationSampler"]
