"""A runner for QuickFIX's session-layer acceptance scripts (``.def`` files).

It reproduces QuickFIX's Ruby test driver (``test/Runner.rb``, ``Reflector.rb``, ``Comparator.rb``,
``FixParser.rb``), playing the initiator against an acceptor under test:

- ``iCONNECT`` / ``iDISCONNECT``: open / close the connection; ``i1,CONNECT`` names connection 1;
- ``I<message>``: send it, after replacing ``<TIME>`` (and ``<TIME+n>``/``<TIME-n>``, seconds) with the
  current UTC time as ``YYYYMMDD-HH:MM:SS`` and adding BodyLength (9) and CheckSum (10) where the line
  has none (a line that has them is sent as written: that is how scripts send corrupt frames);
- ``E<message>``: read one message (frame cut by BodyLength, as FixParser.rb does) and compare it with
  the line after the same substitutions: same number of fields, same tags in the same order, values
  equal except for the tags in ``fields.fmt`` (CheckSum, SendingTime, ...), which must match its
  regular expression;
- ``eDISCONNECT``: the acceptor must close the connection within 10 seconds without sending anything;
- ``#`` lines are comments.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SOH = "\x01"
_PREFIXED = re.compile(r"^[IEie]\d,")
_TIME = re.compile(r"<TIME([+-]\d+)?>")


class ScriptFailure(AssertionError):
    """A script step failed; the message names the line like QuickFIX's runner does."""

    def __init__(self, path: Path, line_no: int, line: str, reason: str) -> None:
        self.line_no = line_no
        self.reason = reason
        super().__init__(f"{path.name}:{line_no}: {reason}\n    line: {line.replace(SOH, '|')}")


@dataclass(slots=True)
class Step:
    """One line of a script."""

    line_no: int
    line: str
    action: str  # I, E, i, e
    connection: int
    body: str


def parse_script(path: Path) -> list[Step]:
    """The steps of a ``.def`` file (comments and blank lines dropped; substitutions happen at run time)."""
    steps = []
    for line_no, raw in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line[0] not in "IEie":
            raise ScriptFailure(path, line_no, line, "syntax error: unknown action")
        if _PREFIXED.match(line):
            steps.append(Step(line_no, line, line[0], int(line[1]), line[3:]))
        else:
            steps.append(Step(line_no, line, line[0], 1, line[1:]))
    return steps


def timify(message: str, now: datetime) -> str:
    """Replace ``<TIME>``, ``<TIME+n>``, ``<TIME-n>`` with UTC times (second precision)."""

    def replace(match: re.Match[str]) -> str:
        offset = int(match.group(1)) if match.group(1) else 0
        return (now + timedelta(seconds=offset)).strftime("%Y%m%d-%H:%M:%S")

    return _TIME.sub(replace, message)


def fixify(message: str) -> str:
    """Add BodyLength and CheckSum the way ``Reflector.rb`` does (including its quirks)."""
    has_length = re.search(r"\x019=.*?\x01", message) is not None
    head_match = re.match(r"8=.*?\x01", message)
    if head_match is None:
        return message
    head = head_match.group(0)
    rest = message[len(head):]
    checksum_match = re.search(r"\x0110=.*\x01$", rest)
    checksum = None
    if checksum_match is not None:
        checksum = checksum_match.group(0)
        rest = rest[: checksum_match.start()] + rest[checksum_match.end():]
    length = "" if has_length else f"9={len(rest)}\x01"
    if checksum is None:
        total = sum((head + length + rest).encode("latin-1")) % 256
        checksum = f"10={total:03d}\x01"
    return head + length + rest + checksum


class Comparator:
    """Field-by-field comparison with regular expressions for volatile fields (``fields.fmt``)."""

    def __init__(self, patterns_text: str) -> None:
        self.patterns: dict[int, re.Pattern[str]] = {}
        for line in patterns_text.splitlines():
            if "=" in line:
                tag, pattern = line.split("=", 1)
                self.patterns[int(tag)] = re.compile(pattern)

    def compare(self, expected: str, actual: str) -> str | None:
        """``None`` if they match, else the reason."""
        left = expected.split(SOH)
        right = actual.split(SOH)
        if len(left) != len(right):
            return "Number of fields do not match"
        for exp_field, act_field in zip(left, right, strict=True):
            exp_tag, _, exp_value = exp_field.partition("=")
            act_tag, _, act_value = act_field.partition("=")
            if exp_tag != act_tag:
                return f"Expected field ({exp_tag}) but found field ({act_tag})"
            pattern = self.patterns.get(int(exp_tag)) if exp_tag.lstrip("-").isdigit() else None
            if pattern is None:
                if exp_value != act_value:
                    return f"Value in field ({exp_tag}) should be ({exp_value}) but was ({act_value})"
            elif pattern.search(act_value) is None:
                return f"Field ({exp_tag}) does not match pattern"
        return None


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    buffer: bytearray = field(default_factory=bytearray)


async def _read_more(conn: _Connection, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no complete message in time")
    chunk = await asyncio.wait_for(conn.reader.read(65536), remaining)
    if not chunk:
        raise ConnectionError("Was disconnected, expected data")
    conn.buffer += chunk


async def _read_until(conn: _Connection, token: bytes, deadline: float) -> bytes:
    while (at := conn.buffer.find(token)) < 0:
        await _read_more(conn, deadline)
    data = bytes(conn.buffer[: at + len(token)])
    del conn.buffer[: at + len(token)]
    return data


async def _read_exactly(conn: _Connection, count: int, deadline: float) -> bytes:
    while len(conn.buffer) < count:
        await _read_more(conn, deadline)
    data = bytes(conn.buffer[:count])
    del conn.buffer[:count]
    return data


async def read_fix_message(conn: _Connection, timeout: float) -> str:
    """One message as FixParser.rb reads it: through ``SOH 9=``, the length, the body, the CheckSum."""
    deadline = time.monotonic() + timeout
    head = await _read_until(conn, b"\x019=", deadline)
    length_field = await _read_until(conn, b"\x01", deadline)
    length_text = length_field[:-1]
    if not length_text.isdigit():
        raise ConnectionError(f"BodyLength {length_text!r} is not a number")
    body = await _read_exactly(conn, int(length_text), deadline)
    trailer = await _read_until(conn, b"\x01", deadline)
    return (head + length_field + body + trailer).decode("latin-1")


async def run_script(path: Path, host: str, port: int, comparator: Comparator, *,
                     expect_timeout: float = 30.0, disconnect_timeout: float = 10.0) -> int:
    """Play a script against an acceptor; returns the number of steps run.

    Raises
    ------
    ScriptFailure
        At the first step that fails.
    """
    steps = parse_script(path)
    connections: dict[int, _Connection] = {}
    try:
        for step in steps:
            body = fixify(timify(step.body, datetime.now(UTC)))
            try:
                await _run_step(step, body, connections, host, port, comparator, expect_timeout, disconnect_timeout)
            except ScriptFailure:
                raise
            except (TimeoutError, ConnectionError, OSError) as exc:
                raise ScriptFailure(path, step.line_no, step.line, f"{type(exc).__name__}: {exc}") from exc
            except _StepError as exc:
                raise ScriptFailure(path, step.line_no, step.line, str(exc)) from exc
    finally:
        for conn in connections.values():
            conn.writer.close()
    return len(steps)


class _StepError(Exception):
    pass


async def _run_step(step: Step, body: str, connections: dict[int, _Connection], host: str, port: int,
                    comparator: Comparator, expect_timeout: float, disconnect_timeout: float) -> None:
    cid = step.connection
    if step.action == "i":
        if body == "CONNECT":
            reader, writer = await asyncio.open_connection(host, port)
            connections[cid] = _Connection(reader, writer)
        elif body == "DISCONNECT":
            conn = connections.pop(cid)
            conn.writer.close()
        else:
            raise _StepError(f"syntax error: {body}")
    elif step.action == "e":
        if body == "DISCONNECT":
            conn = connections.pop(cid)
            if conn.buffer:
                raise _StepError(f"Expected disconnection, got data: {bytes(conn.buffer)!r}")
            try:
                data = await asyncio.wait_for(conn.reader.read(65536), disconnect_timeout)
            except TimeoutError as exc:
                raise _StepError(f"Connection hangs after {disconnect_timeout:g} seconds.") from exc
            finally:
                conn.writer.close()
            if data:
                raise _StepError(f"Expected disconnection, got data: {data.replace(b'\x01', b'|')!r}")
        elif body != "CONNECT":
            raise _StepError(f"syntax error: {body}")
    elif step.action == "I":
        conn = connections.get(cid)
        if conn is None:
            raise _StepError("Unable to send message because connection was dropped")
        conn.writer.write(body.encode("latin-1"))
        await conn.writer.drain()
    elif step.action == "E":
        conn = connections.get(cid)
        if conn is None:
            raise _StepError("no connection to read from")
        actual = await read_fix_message(conn, expect_timeout)
        reason = comparator.compare(body, actual)
        if reason is not None:
            raise _StepError(f"{reason}\n    expected: {body.replace(SOH, '|')}\n    received: {actual.replace(SOH, '|')}")


def main(argv: list[str] | None = None) -> int:
    """Run scripts against any acceptor (ours or another engine) and print one line per script.

        .venv/bin/python -m tests.fix.def_runner --port 9878 ../shared/fix/definitions/fix44/*.def
    """
    import argparse

    parser = argparse.ArgumentParser(description="Run QuickFIX .def acceptance scripts against an acceptor.")
    parser.add_argument("scripts", nargs="+", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fields", type=Path, help="fields.fmt (default: beside the scripts' folder)")
    args = parser.parse_args(argv)
    fields = args.fields or args.scripts[0].resolve().parent.parent / "fields.fmt"
    comparator = Comparator(fields.read_text())
    failures = 0
    for script in args.scripts:
        try:
            asyncio.run(run_script(script, args.host, args.port, comparator))
            print(f"pass  {script.name}")
        except ScriptFailure as exc:
            failures += 1
            print(f"FAIL  {exc}")
    print(f"{len(args.scripts) - failures} of {len(args.scripts)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
