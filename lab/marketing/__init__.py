"""The stand-in marketing service: the system under test the twin's app servers run.

A small aiohttp + asyncpg web service (customers, bills, payments, work tickets,
report export) over a generated customer base, with checksummed responses so
load clients can check every answer against the database's ground truth.
"""
