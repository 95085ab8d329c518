"""The main job: SmolLM2 on llama.cpp writes JSON for the shipped example schema.

Prints the JSON, checks it with ``jsonschema``, and prints tokens per second of the same model
with and without the constraint (greedy decoding, same prompt).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jsonschema

import corral

SCHEMA_FILE = Path(__file__).with_name("product.schema.json")
PROMPT = "Describe a product from a small bakery as JSON."
MAX_TOKENS = 120


def main() -> int:
    schema = json.loads(SCHEMA_FILE.read_text())
    model = corral.load_model("smollm2")
    system = f"Schema: {json.dumps(schema)}"
    stats = corral.RunStats()
    text = corral.generate(
        model, PROMPT, schema=schema, max_tokens=MAX_TOKENS, system=system, stats=stats
    )
    print(text)
    jsonschema.Draft202012Validator(schema).validate(json.loads(text))
    print(f"valid against {SCHEMA_FILE.name}: yes", file=sys.stderr)

    llm = model.runtime.llm
    prompt = model.runtime.chat_prompt(
        [{"role": "system", "content": system}, {"role": "user", "content": PROMPT}]
    )
    llm.reset()  # both runs evaluate the same prompt: tokens/s include it in both
    start = time.perf_counter()
    free = llm.create_completion(prompt, max_tokens=MAX_TOKENS, temperature=0.0)
    seconds = time.perf_counter() - start
    free_tokens = free["usage"]["completion_tokens"]
    g = stats.generation
    print(
        f"constrained (corral): {g.tokens} tokens, {stats.tokens_per_second:.1f} tokens/s "
        f"({g.forced_tokens} forced by jump-forward, {g.mask_seconds * 1000:.0f} ms in masks)\n"
        f"unconstrained:        {free_tokens} tokens, {free_tokens / seconds:.1f} tokens/s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
