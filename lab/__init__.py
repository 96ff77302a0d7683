"""The digital twin: the lab inventory built from network namespaces on one machine."""
