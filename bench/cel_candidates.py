"""Which CEL implementation from PyPI evaluates a rule's condition fastest over an event context.

    .venv/bin/python bench/cel_candidates.py [--n 20000]

Candidates: common-expression-language (`cel`, Rust), cel-expr-python (Google's C++ runtime),
cel-python (`celpy`, pure Python). Each compiles the same conditions once, then evaluates them over a
realistic Aircall call.created context; the numbers are microseconds per evaluation (median of 5
rounds). Also prints whether `data.missed_call_reason != null` and `has(...)` behave as a user
expects on each, since hookline wraps whichever it keeps so that they do.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from hookline.providers.aircall.samples import sample_event

CONDITIONS = [
    'data.direction == "inbound"',
    'data.direction == "inbound" && data.raw_digits.startsWith("+33") && event == "call.created"',
    "data.missed_call_reason != null",
    "has(data.user) && data.user.id > 0",
]


def context() -> dict[str, Any]:
    body = json.loads(json.dumps(sample_event("call.created")))
    return {
        "event": body["event"], "provider": "aircall", "account": "acme", "timestamp": body["timestamp"],
        "data": body["data"], "body": body, "steps": {},
    }


def bench(name: str, compile_: Callable[[str], Callable[[dict[str, Any]], Any]], n: int) -> None:
    ctx = context()
    for cond in CONDITIONS:
        try:
            run = compile_(cond)
            result = run(ctx)
        except Exception as exc:
            print(f"{name:32} {cond[:60]:62} error: {type(exc).__name__}: {str(exc)[:60]}")
            continue
        rounds = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                run(ctx)
            rounds.append((time.perf_counter() - t0) / n * 1e6)
        print(f"{name:32} {cond[:60]:62} {statistics.median(rounds):8.2f} us/eval  -> {result!r}")


def rust_cel() -> Callable[[str], Callable[[dict[str, Any]], Any]]:
    import cel

    def compile_(expr: str) -> Callable[[dict[str, Any]], Any]:
        program = cel.compile(expr)
        return program.execute

    return compile_


def google_cel() -> Callable[[str], Callable[[dict[str, Any]], Any]]:
    from cel_expr_python import cel

    names = ["event", "provider", "account", "timestamp", "data", "body", "steps"]
    env = cel.NewEnv(variables={n: cel.Type.DYN for n in names})

    def compile_(expr: str) -> Callable[[dict[str, Any]], Any]:
        compiled = env.compile(expr)
        return lambda ctx: compiled.eval(data=ctx).value()

    return compile_


def celpy_cel() -> Callable[[str], Callable[[dict[str, Any]], Any]]:
    import celpy

    env = celpy.Environment()

    def compile_(expr: str) -> Callable[[dict[str, Any]], Any]:
        program = env.program(env.compile(expr))
        return lambda ctx: program.evaluate(celpy.json_to_cel(ctx))

    return compile_


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    for name, factory, n in (
        ("common-expression-language", rust_cel, args.n),
        ("cel-expr-python", google_cel, args.n),
        ("cel-python (celpy)", celpy_cel, max(args.n // 20, 100)),
    ):
        try:
            compile_ = factory()
        except Exception as exc:
            print(f"{name:32} unavailable: {type(exc).__name__}: {exc}")
            continue
        bench(name, compile_, n)


if __name__ == "__main__":
    main()
