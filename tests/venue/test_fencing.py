"""Fencing epochs: a request from an epoch below the highest seen for its participant is refused."""

from __future__ import annotations

from hftmm.venue.orders import CancelRejectResponseTo, ExecType, MassCancel, MassCancelReport, Side
from tests.venue.helpers import SYM, buy, cancel, engine, kinds, replace, reports, sell


def test_stale_epoch_new_order_is_rejected_per_participant() -> None:
    e = engine()
    assert kinds(e.submit(buy("a", "1", 100, 5000, epoch=1))) == [("a", "1", ExecType.NEW)]
    assert kinds(e.submit(buy("a", "2", 100, 5000, epoch=2))) == [("a", "2", ExecType.NEW)]
    assert e.highest_epoch("a") == 2
    [r] = reports(e.submit(buy("a", "3", 100, 5000, epoch=1)))
    assert (r.exec_type, r.reason) == (ExecType.REJECTED, "stale epoch")
    # The same epoch is fine, and another participant has its own epochs.
    assert kinds(e.submit(buy("a", "4", 100, 5000, epoch=2))) == [("a", "4", ExecType.NEW)]
    assert kinds(e.submit(sell("b", "1", 100, 5010, epoch=0))) == [("b", "1", ExecType.NEW)]
    assert e.counters.stale_epoch == 1
    assert [o.client_order_id for o in e.resting_orders(SYM, Side.BUY)] == ["1", "2", "4"]


def test_stale_epoch_cannot_cancel_replace_or_mass_cancel() -> None:
    e = engine()
    e.submit(buy("a", "1", 100, 5000, epoch=5))
    e.submit(buy("a", "2", 100, 5000, epoch=6))  # a new primary took over
    [r] = reports(e.submit(cancel("a", "c", "1", epoch=5)))
    assert (r.exec_type, r.response_to, r.reason) == (ExecType.CANCEL_REJECTED, CancelRejectResponseTo.CANCEL, "stale epoch")
    [r] = reports(e.submit(replace("a", "1b", "1", 50, 5000, epoch=5)))
    assert (r.exec_type, r.response_to) == (ExecType.CANCEL_REJECTED, CancelRejectResponseTo.REPLACE)
    [m] = e.submit(MassCancel(participant="a", request_id="m", epoch=4))
    assert isinstance(m, MassCancelReport) and m.rejected and m.canceled == 0 and m.reason == "stale epoch"
    assert len(e.resting_orders(SYM, Side.BUY)) == 2
    # The current epoch may act on orders an older epoch placed.
    assert reports(e.submit(cancel("a", "c2", "1", epoch=6)))[0].exec_type == ExecType.CANCELED


def test_epoch_survives_snapshot_restore() -> None:
    e = engine()
    e.submit(buy("a", "1", 100, 5000, epoch=3))
    restored = type(e).restore(e.snapshot())
    assert reports(restored.submit(buy("a", "2", 100, 5000, epoch=2)))[0].reason == "stale epoch"



def test_a_leader_announcing_its_epoch_fences_the_former_leader_before_it_sends_anything() -> None:
    e = engine()
    e.submit(buy("a", "1", 100, 5000, epoch=3))
    # The new leader's Logon carries epoch 4: a resend of the old leader's order (epoch 3) that the
    # new leader found unsent in the shared FIX store is refused, though epoch 4 sent no order yet.
    assert e.announce_epoch("a", 4) == ""
    [r] = reports(e.submit(buy("a", "2", 100, 5000, epoch=3)))
    assert (r.exec_type, r.reason) == (ExecType.REJECTED, "stale epoch")
    # An announcement from an older term is itself refused (the venue then refuses that Logon).
    assert e.announce_epoch("a", 3) == "stale epoch"
    assert e.highest_epoch("a") == 4
