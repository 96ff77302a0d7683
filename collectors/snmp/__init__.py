"""The asyncio SNMP poller: IF-MIB, sysUpTime and HOST-RESOURCES from many agents.

v2c runs on a hand-written GETBULK codec (`ber`), v3 on pysnmp's USM engine;
`walk` does multi-column walks, `poller` runs every target concurrently.
"""
