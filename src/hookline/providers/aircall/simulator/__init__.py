"""A fake Aircall on localhost: the Public API, a call center's traffic, and webhook delivery.

`hookline simulate aircall` runs it; tests drive `Simulator` directly (`run_for`).
"""

from hookline.providers.aircall.simulator.clock import SimClock
from hookline.providers.aircall.simulator.delivery import Delivery, DeliveryStats, Outgoing
from hookline.providers.aircall.simulator.events import Emitted
from hookline.providers.aircall.simulator.simulation import Simulator
from hookline.providers.aircall.simulator.traffic import Traffic

__all__ = ["Delivery", "DeliveryStats", "Emitted", "Outgoing", "SimClock", "Simulator", "Traffic"]
