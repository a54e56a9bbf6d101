"""FIX tag=value codec: framing, decoding, encoding, BodyLength and CheckSum.

Pure Python, no dictionary: it knows the three framing fields (8, 9, 10) and the FIX 4.4
length-prefixed data fields (e.g. RawDataLength 95 / RawData 96, whose value may contain SOH).
Everything about which tags belong to which message is :mod:`adapters.fix.dictionary`'s job.

Values are ``str`` decoded as latin-1, so every byte maps to one character and BodyLength /
CheckSum computed on the text equal those of the bytes on the wire.

Speed notes (this is the hot path for ExecutionReports):

- one ``bytes.decode`` and one ``str.split`` per message instead of per-field slicing;
- tags are looked up in a dict of the ones seen before instead of ``int()`` on each;
- the checksum uses ``zlib.adler32``, whose low 16 bits are ``1 + sum(bytes)`` modulo 65521: over
  chunks of at most 256 bytes that sum cannot wrap, so it is the exact byte sum, computed in C.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from operator import itemgetter

from adapters.fix.errors import BadBodyLength, BadChecksum, GarbledMessage, HeaderOrderError

SOH = "\x01"
SOH_BYTE = b"\x01"

BEGIN_STRING, BODY_LENGTH, MSG_TYPE, CHECKSUM = 8, 9, 35, 10

BY_TAG = itemgetter(0)  # sort key of (tag, value) fields

# Length field -> the data field it prefixes (FIX 4.4 LENGTH/DATA pairs).
DATA_FIELDS: dict[int, int] = {
    90: 91,  # SecureDataLen -> SecureData
    93: 89,  # SignatureLength -> Signature
    95: 96,  # RawDataLength -> RawData
    212: 213,  # XmlDataLen -> XmlData
    348: 349,  # EncodedIssuerLen -> EncodedIssuer
    350: 351,  # EncodedSecurityDescLen -> EncodedSecurityDesc
    352: 353,  # EncodedListExecInstLen -> EncodedListExecInst
    354: 355,  # EncodedTextLen -> EncodedText
    356: 357,  # EncodedSubjectLen -> EncodedSubject
    358: 359,  # EncodedHeadlineLen -> EncodedHeadline
    360: 361,  # EncodedAllocTextLen -> EncodedAllocText
    362: 363,  # EncodedUnderlyingIssuerLen -> EncodedUnderlyingIssuer
    364: 365,  # EncodedUnderlyingSecurityDescLen -> EncodedUnderlyingSecurityDesc
    445: 446,  # EncodedListStatusTextLen -> EncodedListStatusText
    618: 619,  # EncodedLegIssuerLen -> EncodedLegIssuer
    621: 622,  # EncodedLegSecurityDescLen -> EncodedLegSecurityDesc
}

# Tag text -> int for tags seen before (bounded: garbage tags are never added). Length tags are
# kept out so that meeting one sends the decoder to the slow path that honours the length.
_TAGS: dict[str, int] = {}
_TAG_CACHE_LIMIT = 20_000
_PREFIX: dict[int, str] = {}


def is_ascii_number(text: str) -> bool:
    """A non-empty run of ASCII digits, what FIX calls an int: ``str.isdigit`` also accepts ``'¹'``,
    which ``int`` refuses, and ``'٣'``, which ``int`` reads as 3."""
    return text.isascii() and text.isdigit()


def _parse_tag(text: str) -> int:
    """A tag as an int, strictly: optional ``-`` then ASCII digits (``0`` and ``-1`` are kept so
    that the dictionary can reject them as invalid tag numbers, as FIX test suites expect)."""
    digits = text[1:] if text.startswith("-") else text
    if not is_ascii_number(digits) or len(digits) > 9:
        raise GarbledMessage(f"field tag {text!r} is not an integer")
    tag = int(text)
    if tag not in DATA_FIELDS and len(_TAGS) < _TAG_CACHE_LIMIT and tag > 0:
        _TAGS[text] = tag
    return tag


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The FIX CheckSum: sum of the bytes modulo 256."""
    n = len(data)
    if n <= 256:
        return ((zlib.adler32(data) & 0xFFFF) - 1) & 0xFF
    view = memoryview(data)
    total = 0
    for start in range(0, n, 256):
        total += (zlib.adler32(view[start : start + 256]) & 0xFFFF) - 1
    return total & 0xFF


class FixMessage:
    """A decoded (or to-be-encoded) message: the ordered ``(tag, value)`` list, duplicates kept.

    ``fields`` is the wire order, including 8, 9 and 10 when decoded. ``get`` returns the first
    occurrence of a tag (repeating-group members occur several times; read them in order from
    ``fields`` or with :meth:`get_all`).

    Parameters
    ----------
    fields : list of (int, str)
        The fields in order.
    raw : bytes, optional
        The frame it was decoded from.
    """

    __slots__ = ("_index", "fields", "raw")

    def __init__(self, fields: list[tuple[int, str]], raw: bytes | None = None) -> None:
        self.fields = fields
        self.raw = raw
        self._index: dict[int, str] | None = None

    def _build_index(self) -> dict[int, str]:
        index: dict[int, str] = {}
        for tag, value in self.fields:
            index.setdefault(tag, value)
        self._index = index
        return index

    def append(self, tag: int, value: str) -> None:
        """Add a field at the end (an application adding to an outgoing message)."""
        self.fields.append((tag, value))
        self._index = None

    def get(self, tag: int, default: str | None = None) -> str | None:
        """The value of the first occurrence of ``tag``, or ``default``."""
        index = self._index if self._index is not None else self._build_index()
        return index.get(tag, default)

    def __getitem__(self, tag: int) -> str:
        index = self._index if self._index is not None else self._build_index()
        return index[tag]

    def __contains__(self, tag: object) -> bool:
        index = self._index if self._index is not None else self._build_index()
        return tag in index

    def get_all(self, tag: int) -> list[str]:
        """Every value of ``tag`` in order."""
        return [value for t, value in self.fields if t == tag]

    @property
    def msg_type(self) -> str:
        """MsgType (35), ``""`` if absent."""
        return self.get(MSG_TYPE, "") or ""

    @property
    def seq_num(self) -> int | None:
        """MsgSeqNum (34) as an int, ``None`` if absent or not an integer."""
        value = self.get(34)
        if value is None or not is_ascii_number(value):
            return None
        return int(value)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FixMessage) and self.fields == other.fields

    def __hash__(self) -> int:  # mutable: identity hash, like a list-holding object should not have
        return id(self)

    def __repr__(self) -> str:
        return "FixMessage(" + "|".join(f"{t}={v}" for t, v in self.fields) + "|)"


def decode(frame: bytes, *, validate: bool = True) -> FixMessage:
    """Decode one complete frame (``8=...`` through ``10=nnn<SOH>``).

    Parameters
    ----------
    frame : bytes
        One message as framed by :class:`FrameReader`.
    validate : bool, default True
        Check that 8, 9, 35 come first and 10 last, and verify BodyLength and CheckSum.

    Returns
    -------
    FixMessage

    Raises
    ------
    GarbledMessage
        No trailing SOH, a field without ``=``, a tag that is not an integer, a data field whose
        length runs past the frame.
    HeaderOrderError, BadBodyLength, BadChecksum
        With ``validate``: the framing fields are wrong.
    """
    text = frame.decode("latin-1")
    if not text.endswith(SOH):
        raise GarbledMessage("message does not end with SOH")
    parts = text[:-1].split(SOH)
    fields: list[tuple[int, str]] = []
    append = fields.append
    tags = _TAGS
    for part in parts:
        tag_text, sep, value = part.partition("=")
        tag = tags.get(tag_text)
        if tag is None or not sep:
            if not sep:
                raise GarbledMessage(f"field {part[:20]!r} has no '='")
            tag = _parse_tag(tag_text)
            if tag in DATA_FIELDS:
                fields = _decode_with_data_fields(text)
                break
        append((tag, value))
    if validate:
        _check_framing(frame, text, fields)
    return FixMessage(fields, frame)


def _decode_with_data_fields(text: str) -> list[tuple[int, str]]:
    """The slow path: scan field by field so a DATA value may contain SOH."""
    fields: list[tuple[int, str]] = []
    pos, n = 0, len(text)
    pending_length: tuple[int, int] | None = None  # (data tag, byte count)
    while pos < n:
        eq = text.find("=", pos)
        if eq < 0:
            raise GarbledMessage(f"field at offset {pos} has no '='")
        tag = _parse_tag(text[pos:eq])
        if pending_length is not None and tag == pending_length[0]:
            end = eq + 1 + pending_length[1]
            if end >= n or text[end] != SOH:
                raise GarbledMessage(f"data field runs past its length {pending_length[1]}", tag)
        else:
            end = text.find(SOH, eq + 1)
            if end < 0:
                raise GarbledMessage("field not terminated by SOH", tag)
        value = text[eq + 1 : end]
        fields.append((tag, value))
        pending_length = None
        if tag in DATA_FIELDS and is_ascii_number(value):
            pending_length = (DATA_FIELDS[tag], int(value))
        pos = end + 1
    return fields


def _check_framing(frame: bytes, text: str, fields: list[tuple[int, str]]) -> None:
    if len(fields) < 4:
        raise GarbledMessage("fewer than four fields")
    if fields[0][0] != BEGIN_STRING or fields[1][0] != BODY_LENGTH or fields[2][0] != MSG_TYPE:
        bad = next(
            (tag for (tag, _), want in zip(fields, (8, 9, 35), strict=False) if tag != want), fields[0][0]
        )
        raise HeaderOrderError("BeginString, BodyLength and MsgType must be the first three fields", bad)
    last_tag, last_value = fields[-1]
    if last_tag != CHECKSUM:
        raise GarbledMessage("CheckSum (10) is not the last field", last_tag)
    body_start = len(fields[0][1]) + len(fields[1][1]) + 6  # "8=" SOH "9=" SOH
    trailer_len = len(last_value) + 4  # "10=" value SOH
    body_end = len(text) - trailer_len
    declared = fields[1][1]
    if not is_ascii_number(declared) or int(declared) != body_end - body_start:
        raise BadBodyLength(f"BodyLength is {declared!r} but the body is {body_end - body_start} bytes", 9)
    if not is_ascii_number(last_value) or int(last_value) != checksum(memoryview(frame)[:body_end]):
        raise BadChecksum(f"CheckSum is {last_value!r}, computed {checksum(memoryview(frame)[:body_end]):03d}", 10)


def _prefix(tag: int) -> str:
    prefix = _PREFIX.get(tag)
    if prefix is None:
        prefix = _PREFIX[tag] = f"{tag}="
    return prefix


def encode(fields: Iterable[tuple[int, str]], begin_string: str = "FIX.4.4") -> bytes:
    """Encode a message, adding BeginString, BodyLength and CheckSum.

    Parameters
    ----------
    fields : iterable of (int, str)
        Every field from MsgType (35) on, in the order they go on the wire, without 8, 9 and 10.
    begin_string : str, default "FIX.4.4"

    Returns
    -------
    bytes
        The complete frame.
    """
    prefix = _PREFIX
    body = "".join([(prefix.get(tag) or _prefix(tag)) + value + SOH for tag, value in fields])
    data = f"8={begin_string}\x019={len(body)}\x01{body}".encode("latin-1")
    return data + b"10=%03d\x01" % checksum(data)


class FrameReader:
    """Cuts a byte stream into frames the way QuickFIX's parser does.

    A frame starts at ``8=FIX``; its end is found from BodyLength (9): the first ``<SOH>10=``
    at or after the declared end of the body, through the next SOH. A wrong BodyLength therefore
    yields a frame that fails :func:`decode`'s BodyLength check (too short: this message; too long:
    this message glued to the next one), which the session ignores, as FIX requires.

    Parameters
    ----------
    max_message_size : int, default 1 MiB
        A declared BodyLength above this drops the frame start (protects the buffer).
    """

    def __init__(self, max_message_size: int = 1 << 20) -> None:
        self._buffer = bytearray()
        self._max = max_message_size
        self.discarded_bytes = 0

    def feed(self, data: bytes) -> None:
        """Append bytes received from the socket."""
        self._buffer += data

    def __len__(self) -> int:
        return len(self._buffer)

    def next_frame(self) -> bytes | None:
        """The next complete frame, or ``None`` until more bytes arrive.

        Raises
        ------
        GarbledMessage
            BodyLength is not a number or too large; the bytes up to it are dropped and the next
            call resumes the search at the following ``8=FIX``.
        """
        buf = self._buffer
        start = buf.find(b"8=FIX")
        if start < 0:
            keep = 4  # a "8=FI" split across reads
            if len(buf) > keep:
                self.discarded_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
            return None
        if start:
            self.discarded_bytes += start
            del buf[:start]
        length_at = buf.find(b"\x019=")
        if length_at < 0:
            return self._guard_header()
        length_at += 3
        length_end = buf.find(SOH_BYTE, length_at)
        if length_end < 0:
            return self._guard_header()
        declared = bytes(buf[length_at:length_end])
        if not declared.isdigit() or int(declared) > self._max:
            self.discarded_bytes += length_end + 1
            del buf[: length_end + 1]
            raise GarbledMessage(f"BodyLength {declared!r} is not a usable length", 9)
        body_end = length_end + 1 + int(declared)
        if len(buf) < body_end:
            return None
        checksum_at = buf.find(b"\x0110=", body_end - 1)
        if checksum_at < 0:
            return self._guard_body(body_end)
        frame_end = buf.find(SOH_BYTE, checksum_at + 4)
        if frame_end < 0:
            return None
        frame = bytes(buf[: frame_end + 1])
        del buf[: frame_end + 1]
        return frame

    def _guard_header(self) -> None:
        if len(self._buffer) > 256:  # 8= and 9= always come in the first few dozen bytes
            self.discarded_bytes += 5
            del self._buffer[:5]  # skip this "8=FIX" and look for the next one
            raise GarbledMessage("no BodyLength after BeginString", 9)
        return None

    def _guard_body(self, body_end: int) -> None:
        if len(self._buffer) > body_end + self._max:
            self.discarded_bytes += 5
            del self._buffer[:5]
            raise GarbledMessage("no CheckSum after the declared body", 10)
        return None
