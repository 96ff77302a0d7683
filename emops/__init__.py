"""emops core: the topology model every other part reads and the helpers they share
(the `emops` command is assembled one layer up, in control/)."""

__version__ = "0.1.0"
