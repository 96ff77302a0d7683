"""A real marketing service on loopback for the Locust tests: the marketing tests' own fixtures.

Imported under the module name pytest itself gives them (tests/ is the rootdir
of the `marketing` test package), so a full run loads that conftest once; pytest
registers the fixtures again for this directory, so these tests get their own
session cluster (a few seconds), stopped and removed like the marketing one.
"""

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent)
if TESTS not in sys.path:
    sys.path.append(TESTS)  # after the real packages: only `marketing` is looked up here

from marketing.conftest import cluster, primary_dsn, service_no_replica  # noqa: E402, F401
