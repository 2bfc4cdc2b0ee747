from sqlalchemy.exc import DBAPIError

from movies.platform.problems import _is_outage


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, _DriverError(sqlstate))


def test_server_shutting_down_or_unreachable_is_an_outage() -> None:
    assert _is_outage(_error("57P03"))  # cannot connect now: starting or shutting down
    assert _is_outage(_error("57P01"))  # admin shutdown
    assert _is_outage(_error("08006"))  # connection failure


def test_a_wrong_statement_is_not_an_outage() -> None:
    assert not _is_outage(_error("42P01"))  # undefined table
    assert not _is_outage(_error("23505"))  # unique violation
