"""Which CEL implementation from PyPI evaluates rules' conditions fastest over an event context.

    .venv/bin/python bench/cel_candidates.py [--n 5000]

Candidates: common-expression-language (`cel`, Rust), cel-expr-python (Google's C++ runtime),
cel-python (`celpy`, pure Python). Each compiles the same conditions once over a realistic Aircall
call.created context and reports, in microseconds (median of 5 rounds):

- `convert`: turning the event's variables into the library's values (once per event);
- `eval`:    one condition on variables already converted (once per rule and event), where the
             library can keep them (cel-expr-python converts on every call: its `eval` includes it);
- `50 rules`: one event against 50 conditions, the matcher's case = convert + 50 x eval.

hookline converts once per event, and only the fields the event's candidate rules read (conditions.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from hookline.testing.aircall.samples import sample_event

CONDITIONS = [
    'data.direction == "inbound"',
    'data.direction == "inbound" && data.raw_digits.startsWith("+33") && event == "call.created"',
    "data.missed_call_reason != null",
    "has(data.user) && data.user.id > 0",
]


def context() -> dict[str, Any]:
    body = json.loads(json.dumps(sample_event("call.created")))
    return {"event": body["event"], "provider": "aircall", "account": "acme", "timestamp": body["timestamp"],
            "data": body["data"], "body": body, "steps": {}}


def timed(fn: Callable[[], Any], n: int) -> float:
    rounds = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(rounds)


# Each candidate: (convert(ctx) -> prepared, compile(expr) -> run(prepared) -> value)
Candidate = tuple[Callable[[dict[str, Any]], Any], Callable[[str], Callable[[Any], Any]]]


def rust_cel() -> Candidate:
    import cel

    return (lambda ctx: cel.Context(variables=ctx)), (lambda expr: cel.compile(expr).execute)


def google_cel() -> Candidate:
    from cel_expr_python import cel

    env = cel.NewEnv(variables={n: cel.Type.DYN for n in context()})

    def compile_(expr: str) -> Callable[[Any], Any]:
        compiled = env.compile(expr)
        return lambda ctx: compiled.eval(data=ctx).value()

    return (lambda ctx: ctx), compile_


def celpy_cel() -> Candidate:
    import celpy

    env = celpy.Environment()
    return celpy.json_to_cel, (lambda expr: env.program(env.compile(expr)).evaluate)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    args = parser.parse_args()
    ctx = context()
    print(f"{'candidate':28} {'convert':>9} {'eval':>9} {'50 rules':>10}   results")
    for name, factory, n in (
        ("common-expression-language", rust_cel, args.n),
        ("cel-expr-python", google_cel, args.n),
        ("cel-python (celpy)", celpy_cel, max(args.n // 20, 50)),
    ):
        try:
            convert, compile_ = factory()
            runs = [compile_(c) for c in CONDITIONS]
            prepared = convert(ctx)
            results = [r(prepared) for r in runs]
        except Exception as exc:
            print(f"{name:28} unavailable: {type(exc).__name__}: {exc}")
            continue
        conv = timed(lambda: convert(ctx), n)  # noqa: B023 - run at once, in this iteration
        ev = statistics.mean(timed(lambda r=r: r(prepared), n) for r in runs)  # noqa: B023
        print(f"{name:28} {conv:8.1f}  {ev:8.2f}  {conv + 50 * ev:9.0f}   {[str(x) for x in results]}")


if __name__ == "__main__":
    main()
