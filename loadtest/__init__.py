"""Locust users and load-and-fault campaigns (issue: campaigns)."""
