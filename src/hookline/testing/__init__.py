"""Fakes, samples and simulators of the providers, for tests, benchmarks and trying hookline.

No product module imports this package; only the commands that run a fake or a simulator
(`hookline simulate ...`, `hookline demo`) and the tests do.
"""
