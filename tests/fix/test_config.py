"""Session configuration: decoding from TOML/JSON and building sessions and stores from it."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from adapters.fix.application import Application
from adapters.fix.config import SessionConfig
from adapters.fix.store import FileStore, MemoryStore, RedisStore
from adapters.fix.transport import build_session, build_store

TOML = """
sender_comp_id = "HFTMM"
target_comp_id = "VENUE"
role = "initiator"
host = "fix.venue.example"
port = 9878
heartbeat_interval = 15
reset_on_logon = true

[schedule]
start_time = "04:00:00"
end_time = "20:00:00"
timezone = "America/New_York"

[tls]
ca_file = "/etc/hftmm/venue-ca.pem"

[store]
kind = "file"
path = "STORE_DIR"
sync = true
"""


def test_toml_config_decodes(tmp_path: Path) -> None:
    config = msgspec.toml.decode(TOML.replace("STORE_DIR", str(tmp_path)), type=SessionConfig)
    assert config.session_name == "FIX.4.4-HFTMM-VENUE"
    assert config.schedule is not None and config.schedule.timezone == "America/New_York"
    assert config.tls is not None and config.tls.ca_file == "/etc/hftmm/venue-ca.pem"
    assert config.store.kind == "file" and config.heartbeat_interval == 15


def test_unknown_or_invalid_settings_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="heartbeat"):
        msgspec.json.decode(b'{"sender_comp_id":"A","target_comp_id":"B","heartbeat":5}', type=SessionConfig)
    with pytest.raises(msgspec.ValidationError, match="port"):
        msgspec.json.decode(b'{"sender_comp_id":"A","target_comp_id":"B","port":70000}', type=SessionConfig)


def test_build_store_for_each_kind(tmp_path: Path, redis_server: tuple[str, int]) -> None:
    base = {"sender_comp_id": "A", "target_comp_id": "B"}
    memory = msgspec.convert(base | {"store": {"kind": "memory"}}, SessionConfig)
    assert isinstance(build_store(memory), MemoryStore)
    file = msgspec.convert(base | {"store": {"kind": "file", "path": str(tmp_path)}}, SessionConfig)
    store = build_store(file)
    assert isinstance(store, FileStore) and (tmp_path / "FIX.4.4-A-B.seqnums").exists()
    store.close()
    url = f"redis://{redis_server[0]}:{redis_server[1]}/0"
    redis = msgspec.convert(base | {"store": {"kind": "redis", "redis_url": url}}, SessionConfig)
    assert isinstance(build_store(redis), RedisStore)


def test_build_session_with_a_dictionary_path(tmp_path: Path, fix_shared: Path) -> None:
    config = msgspec.convert({"sender_comp_id": "A", "target_comp_id": "B",
                              "dictionary_path": str(fix_shared / "spec" / "FIX44.xml"),
                              "store": {"kind": "memory"}}, SessionConfig)
    session = build_session(config, Application())
    assert session.dictionary.path == fix_shared / "spec" / "FIX44.xml"
    assert session.session_id.sender_comp_id == "A" and not session.is_logged_on
