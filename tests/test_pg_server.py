"""The PostgreSQL server that scripts/test.sh starts is really there.

scripts/test.sh exports OPENCLAW_TEST_PG_URL once its throwaway server answers. Outside CI
a missing URL skips (no root, no PostgreSQL installed); under CI it fails, so a CI run can
never pass while quietly leaving PostgreSQL untested.
"""

import os

import pytest
import sqlalchemy as sa

PG_URL_VARIABLE = "OPENCLAW_TEST_PG_URL"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def postgres_url() -> str:
    url = os.environ.get(PG_URL_VARIABLE, "")
    if url:
        return url
    if running_in_ci():
        pytest.fail(
            f"{PG_URL_VARIABLE} is not set under CI: scripts/test.sh must install and start "
            "PostgreSQL there (see its 'PostgreSQL test server' output above)"
        )
    pytest.skip(
        f"PostgreSQL tests skipped: {PG_URL_VARIABLE} is not set (scripts/test.sh starts a "
        "server when run as root or when PostgreSQL's initdb is installed)"
    )


@pytest.mark.postgres
def test_postgres_server_answers() -> None:
    engine = sa.create_engine(postgres_url())
    try:
        with engine.connect() as connection:
            version = connection.execute(sa.text("select version()")).scalar_one()
            database = connection.execute(sa.text("select current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL ")
    assert database == sa.make_url(postgres_url()).database
