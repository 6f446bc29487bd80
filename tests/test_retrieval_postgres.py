"""The whole retrieval suite (tests/test_retrieval.py) again, over the PostgreSQL store.

Every test there takes the `index` fixture; here `index` is the real corpus ingested into a real
PostgreSQL + pgvector (postgres_fixture.pg_index), so the same assertions hold for both stores
without a line of the suite copied.
"""

import pytest
from test_retrieval import *  # noqa: F403 - the suite itself, collected again in this module


@pytest.fixture
def index(pg_index):  # overrides the session fixture for this module only
    assert pg_index.store.location.startswith("postgres ")
    return pg_index
