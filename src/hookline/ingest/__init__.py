"""The hot path: receive -> authenticate -> append (group commit) -> answer."""
