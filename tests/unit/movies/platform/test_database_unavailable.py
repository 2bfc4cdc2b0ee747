import socket

import pytest

from movies.platform.database import DatabaseUnavailableError, open_database


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_connect_the_driver_cannot_make_is_raised_as_database_unavailable() -> None:
    url = f"postgresql+asyncpg://movies:secret@127.0.0.1:{_closed_port()}/movies"
    database = open_database(url, timeout_seconds=2.0)
    try:
        with pytest.raises(DatabaseUnavailableError) as raised:
            async with database.engine.connect():
                pass
        assert isinstance(raised.value.__cause__, OSError)
        assert "secret" not in str(raised.value)
        assert not await database.reachable(2.0)
    finally:
        await database.dispose()
