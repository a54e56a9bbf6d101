"""FIX 4.4 engine on asyncio: codec, data dictionary, session layer, message stores, transport.

The pieces, one file per role:

- :mod:`adapters.fix.codec`: tag=value framing, decoding, encoding, BodyLength, CheckSum;
- :mod:`adapters.fix.dictionary`: the FIX 4.4 data dictionary (QuickFIX's ``FIX44.xml``) and message validation;
- :mod:`adapters.fix.session`: the session state machine shared by initiator and acceptor;
- :mod:`adapters.fix.store`: message stores (file, Redis) that let a restart continue the session;
- :mod:`adapters.fix.transport`: asyncio TCP (optionally TLS) acceptor and initiator;
- :mod:`adapters.fix.config`: msgspec configuration structs;
- :mod:`adapters.fix.application`: the callback interface an execution client or venue implements.
"""

from adapters.fix.application import Application
from adapters.fix.codec import FixMessage, FrameReader, decode, encode
from adapters.fix.config import ScheduleConfig, SessionConfig, StoreConfig, TlsConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.session import Session, SessionID
from adapters.fix.store import FileStore, MemoryStore, MessageStore, RedisStore
from adapters.fix.transport import FixAcceptor, FixInitiator, build_session, build_store

__all__ = [
    "Application",
    "DataDictionary",
    "FileStore",
    "FixAcceptor",
    "FixInitiator",
    "FixMessage",
    "FrameReader",
    "MemoryStore",
    "MessageStore",
    "RedisStore",
    "ScheduleConfig",
    "Session",
    "SessionConfig",
    "SessionID",
    "StoreConfig",
    "TlsConfig",
    "build_session",
    "build_store",
    "decode",
    "encode",
]
