"""Speed and scale benchmark of policyqa against a peer (`python -m benchmarks.run`)."""
