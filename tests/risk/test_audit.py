"""The audit trail's hash chain detects a changed, removed, reordered or truncated record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hftmm.cli.app import app
from hftmm.risk.audit import AuditTrail, verify_trail
from tests.risk.helpers import T0, chain_with, intent


def _trail(path: Path, n: int = 20) -> list[bytes]:
    trail = AuditTrail(path, {"run_id": "test"}, flush_every=7)
    for i in range(n):
        trail.append("intent", T0 + i, {"order": f"O-{i}", "price": 50.0 + i / 100, "allowed": i % 3 != 0})
    trail.close(T0 + n)
    return path.read_bytes().splitlines(keepends=True)


def test_an_intact_trail_verifies(tmp_path: Path) -> None:
    lines = _trail(tmp_path / "a.jsonl")
    report = verify_trail(tmp_path / "a.jsonl")
    assert report.ok and report.records == len(lines) == 22


@pytest.mark.parametrize("tamper", ["changed", "removed", "reordered", "truncated", "appended"])
def test_tampering_is_detected(tmp_path: Path, tamper: str) -> None:
    path = tmp_path / "a.jsonl"
    lines = _trail(path)
    if tamper == "changed":
        lines[5] = lines[5].replace(b'"price":50.04', b'"price":50.05')
    elif tamper == "removed":
        del lines[8]
    elif tamper == "reordered":
        lines[3], lines[4] = lines[4], lines[3]
    elif tamper == "truncated":
        lines = lines[:-3]
    else:
        record = json.loads(lines[-2])
        record["seq"] = 99
        lines.append(json.dumps(record).encode() + b"\n")
    path.write_bytes(b"".join(lines))
    report = verify_trail(path)
    assert not report.ok
    text = "\n".join(report.problems)
    expected = {"changed": "line 6 (seq 5): record changed", "removed": "line 9: seq 9 where 8 was expected (records removed)",
                "reordered": "line 4: seq 4 where 3 was expected", "truncated": "no closing record",
                "appended": "where 22 was expected"}[tamper]
    assert expected in text, text


def test_a_reopened_trail_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    _trail(path, 3)
    trail = AuditTrail(path, {"run_id": "second session"})
    trail.append("intent", T0, {"order": "O-x"})
    trail.close(T0 + 1)
    assert verify_trail(path).ok


def test_the_chain_records_every_decision(tmp_path: Path) -> None:
    chain = chain_with({"path": "MaxPosition", "max_position": 100})
    chain.audit = AuditTrail(tmp_path / "t.jsonl", {"run_id": "x"})
    chain.check(intent(1, 100, 49.9, coid="A"))
    chain.check(intent(1, 100, 49.8, coid="B"))
    chain.on_order_event("accepted", "A", T0)
    chain.on_fill("S-1", "ACME.XNYS", "A", 1, 100, 49.9, -0.2, 0.0, T0, "T-1")
    chain.check(intent(1, 100, 49.9, kind="cancel", coid="B"))
    chain.audit.close(T0 + 5)
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert kinds == ["open", "intent", "intent", "accepted", "fill", "intent", "close"]
    vetoed = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[2])["data"]
    assert vetoed["allowed"] is False and vetoed["plugin"] == "MaxPosition"


def test_cli_audit_verify(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    lines = _trail(path)
    result = CliRunner().invoke(app, ["audit", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "22 records" in result.output and "intact" in result.output
    lines[10] = lines[10].replace(b"O-9", b"O-X")
    path.write_bytes(b"".join(lines))
    result = CliRunner().invoke(app, ["audit", "verify", str(path)])
    assert result.exit_code == 1 and "line 11 (seq 10): record changed" in result.output
