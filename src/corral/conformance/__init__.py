"""A conformance suite users can run on any grammar: random derivations (soundness), random
walks over allowed tokens finished by the shortest completion (compliance)."""

from __future__ import annotations

from corral.conformance.completion import shortest_completion
from corral.conformance.derivations import DerivationSampler

__all__ = ["DerivationSampler", "shortest_completion"]
