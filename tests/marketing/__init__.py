"""Tests of the stand-in marketing service.

A package, so its conftest.py is `marketing.conftest` and does not shadow tests/conftest.py.
"""
