"""windows.py without a database: the matches that fire do not depend on the order they arrived in."""

from __future__ import annotations

import bisect

from hypothesis import given
from hypothesis import strategies as st

from hookline.automations.windows import InOrder, Match, firing


def live(arrivals: list[Match], count: int, seconds: float) -> set[int]:
    """What the matcher does: each arrival stored, then the matches near it read back in order."""
    stored: list[Match] = []
    fired: set[int] = set()
    for new in arrivals:
        bisect.insort(stored, new)
        near = [m for m in stored if new[0] - seconds < m[0] < new[0] + seconds]
        fired.update(firing(near, new, count, seconds))
    return fired


def in_time_order(matches: list[Match], count: int, seconds: float) -> set[int]:
    counter = InOrder(count, seconds)
    return {event_id for at, event_id in sorted(matches) if counter.fires("k", at)}


def test_an_early_match_arriving_last_completes_the_window() -> None:
    # t=2, t=1, t=0 arriving in that order (ids 1, 2, 3): the third arrival completes the window, and
    # the match that fires is the one at t=2, the third in time, as when they arrive in order.
    assert live([(2.0, 1), (1.0, 2), (0.0, 3)], 3, 60) == {1}
    assert live([(0.0, 1), (1.0, 2), (2.0, 3)], 3, 60) == {3}
    # One arrival can complete two windows: t=2 arriving last, with 0, 1 and 3 (count 3 within 3 s).
    arrivals = [(0.0, 1), (3.0, 2), (1.0, 3), (2.0, 4)]
    assert live(arrivals, 3, 3) == {2, 4} == in_time_order(arrivals, 3, 3)
    # Exactly `seconds` apart is not within the window, in either order.
    assert live([(0.0, 1), (60.0, 2)], 2, 60) == live([(60.0, 1), (0.0, 2)], 2, 60) == set()


@given(
    data=st.data(),
    times=st.lists(st.integers(0, 40), min_size=1, max_size=25),
    count=st.integers(1, 5),
    seconds=st.sampled_from([1.0, 2.5, 5.0, 10.0]),
)
def test_any_arrival_order_fires_what_the_time_order_fires(
    data: st.DataObject, times: list[int], count: int, seconds: float
) -> None:
    # Event ids are given in arrival order, as the log gives them; equal times are ordered by id.
    arrivals = data.draw(st.permutations([float(t) for t in times]))
    matches = [(at, i + 1) for i, at in enumerate(arrivals)]
    assert live(matches, count, seconds) == in_time_order(matches, count, seconds)
