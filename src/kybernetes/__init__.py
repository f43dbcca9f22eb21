"""kybernetes: the Kubernetes architecture, built in Python."""

__version__ = "0.1.0"
