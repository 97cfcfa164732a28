"""Local stand-ins for outside services, reachable over real HTTP."""
