"""policyqa: extractive, cited answers over mental-health service policies.

Stages, one module each: documents -> sections -> chunks -> index -> retrieval -> answers -> evaluation.
"""

__version__ = "0.1.0"
