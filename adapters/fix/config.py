"""Configuration of FIX sessions (msgspec structs, decodable from TOML/YAML/JSON)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec


class TlsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """TLS for the connection (Python ``ssl``).

    Parameters
    ----------
    cert_file, key_file : str or None
        Our certificate chain and key (PEM). Required for an acceptor; for an initiator only when
        the venue wants client certificates.
    ca_file : str or None
        CA bundle used to verify the peer; ``None`` uses the system store (initiator) or does not
        ask for client certificates (acceptor).
    require_client_cert : bool
        Acceptor only: reject clients without a certificate signed by ``ca_file``.
    server_hostname : str or None
        Initiator only: the name checked against the venue's certificate (defaults to ``host``).
    """

    cert_file: str | None = None
    key_file: str | None = None
    ca_file: str | None = None
    require_client_cert: bool = False
    server_hostname: str | None = None


class StoreConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where sequence numbers and sent messages are kept.

    Parameters
    ----------
    kind : {"file", "redis", "memory"}
    path : str
        ``file``: the directory.
    sync : bool
        ``file``: fsync every write before the message goes out.
    redis_url : str
        ``redis``: e.g. ``redis://127.0.0.1:6379/0``.
    redis_prefix : str
        ``redis``: key prefix.
    """

    kind: Literal["file", "redis", "memory"] = "file"
    path: str = "runs/fix-store"
    sync: bool = True
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = "hftmm:fix"


class ScheduleConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A daily session window in a time zone (US equities: Eastern Time).

    Outside the window logons are refused and a logged-on session logs out; the first logon of a
    new window starts fresh sequence numbers (the store is reset when its creation time belongs
    to an earlier window). ``end_time`` before ``start_time`` means the window spans midnight.

    Parameters
    ----------
    start_time, end_time : str
        ``HH:MM:SS`` local time.
    timezone : str
        IANA zone name.
    weekdays : tuple of int
        Days (Monday = 0) on which a window *starts*.
    """

    start_time: str = "04:00:00"
    end_time: str = "20:00:00"
    timezone: str = "America/New_York"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)


class SessionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One FIX session, initiator or acceptor.

    Parameters
    ----------
    sender_comp_id, target_comp_id : str
        SenderCompID (49) we send and TargetCompID (56) we address.
    role : {"initiator", "acceptor"}
    host, port : str, int
        Initiator: where to connect. Acceptor: where to listen (port 0 picks a free one).
    begin_string : str
    heartbeat_interval : int
        HeartBtInt (108) an initiator proposes, in seconds (an acceptor uses the initiator's).
    reset_on_logon, reset_on_logout, reset_on_disconnect : bool
        Start both sequences at 1 on that event (an initiator with ``reset_on_logon`` sends
        ResetSeqNumFlag 141=Y); all False continues the sequences across connections.
    check_latency : bool
        Reject messages whose SendingTime is more than ``max_latency_s`` from our clock.
    logon_timeout_s, logout_timeout_s : float
        How long to wait for the Logon / Logout answer before disconnecting.
    reconnect_interval_s : float
        Initiator: pause between connection attempts.
    timestamp_precision : int
        Fractional digits in SendingTime (0, 3 or 6).
    timer_interval_s : float
        How often heartbeat / test-request / timeout conditions are checked.
    max_write_buffer_bytes : int
        Bytes written but not yet taken by the counterparty above which it is treated as a slow
        consumer and the connection is aborted (memory stays bounded; it recovers by resend).
    dictionary_path : str or None
        Data dictionary XML; ``None`` uses the packaged FIX 4.4 dictionary.
    validate_messages : bool
        Check inbound messages against the dictionary (Reject on failure).
    persist_messages : bool
        Keep sent messages for resend; if False a ResendRequest is answered with one gap fill.
    schedule : ScheduleConfig or None
        ``None``: the session is always open.
    tls : TlsConfig or None
    store : StoreConfig
    """

    sender_comp_id: str
    target_comp_id: str
    role: Literal["initiator", "acceptor"] = "initiator"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    begin_string: str = "FIX.4.4"
    heartbeat_interval: Annotated[int, msgspec.Meta(ge=0)] = 30
    reset_on_logon: bool = False
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    check_latency: bool = True
    max_latency_s: Annotated[float, msgspec.Meta(gt=0)] = 120.0
    logon_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    logout_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    reconnect_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    timestamp_precision: Literal[0, 3, 6] = 3
    timer_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    max_write_buffer_bytes: Annotated[int, msgspec.Meta(gt=0)] = 64 << 20
    dictionary_path: str | None = None
    validate_messages: bool = True
    persist_messages: bool = True
    schedule: ScheduleConfig | None = None
    tls: TlsConfig | None = None
    store: StoreConfig = StoreConfig()

    @property
    def session_name(self) -> str:
        """``BeginString-Sender-Target``, used for store file names and keys."""
        return f"{self.begin_string}-{self.sender_comp_id}-{self.target_comp_id}"
