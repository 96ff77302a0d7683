"""emops core: the topology model every other part reads, and the `emops` CLI."""

__version__ = "0.1.0"
