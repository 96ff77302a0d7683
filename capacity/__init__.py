"""Capacity planning: the paper's ping-pong and bulk bandwidth formulas and WAN link sizing."""
