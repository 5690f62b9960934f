"""The simulator's default load: a calm, healthy call center (80-95 % of inbound calls answered).

25 agents and 8 calls per minute of the company's day answer about 85 % of inbound calls (measured
over two company hours, three seeds); the rest are Aircall's ordinary misses: a line out of opening
hours, callers who hang up early or in the IVR, agents who let it ring. Raise the calls per minute
(or lower the agents) to see an overloaded center miss calls with `no_available_agent`.
"""

DEFAULT_AGENTS = 25
DEFAULT_CALLS_PER_MINUTE = 8.0
DEFAULT_SPEED = 10.0
