"""Rollback: after accepting k tokens and rolling back k, the state (mask, acceptance, forced
bytes) is exactly the earlier one."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LIBRARY, compiled_library
from corral import Matcher

EXAMPLES = {"json.lark": 100, "json.gbnf": 60, "arithmetic.lark": 40, "sql.lark": 25, "c.lark": 25}


@pytest.mark.parametrize("name", LIBRARY)
def test_rollback_restores_masks(name: str, engine: str) -> None:
    cg = compiled_library(name, engine)

    @settings(
        max_examples=EXAMPLES[name] // (2 if engine == "reference" else 1),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(seed=st.integers(0, 2**32 - 1))
    def run(seed: int) -> None:
        rng = random.Random(seed)
        m = Matcher(cg)
        snapshots: list[tuple[np.ndarray, bool, bytes, int]] = []
        for _ in range(rng.randint(1, 6)):
            mask = m.allowed_token_mask()
            snapshots.append((mask, m.is_accepting(), m.forced_bytes(), m.num_bytes))
            allowed = [i for i in np.nonzero(mask)[0].tolist() if i not in cg.eos_ids]
            if not allowed:
                break
            assert m.accept_token(rng.choice(allowed))
        k = rng.randint(1, len(snapshots))
        m.rollback(k)
        mask, accepting, forced, n = snapshots[-k]
        assert m.num_bytes == n
        assert m.is_accepting() == accepting
        assert m.forced_bytes() == forced
        assert np.array_equal(m.allowed_token_mask(), mask)

    run()
