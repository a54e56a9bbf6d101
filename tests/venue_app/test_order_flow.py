"""The venue over real FIX on loopback: the order-flow profile end to end."""

from __future__ import annotations

from pathlib import Path

from hftmm.venue.orders import Side, price_to_str
from hftmm.venue.record import read_record
from hftmm.venue.server import RECORD_FILE
from tests.venue_app.harness import Day, cancel, connect, make_server, new_order, replace, run, until, venue_config


def test_new_order_ack_and_taking_fill_against_replayed_liquidity(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path), *day)
        await server.start()
        initiator, session, app = await connect(server.port)
        ask, ask_size = server.engine.replayed_best("ACME", Side.SELL)
        session.send("D", new_order("T1", "1", 100, price_to_str(ask), tif="3"))
        await until(lambda: len(app.of("8", t11="T1")) >= 2, what="ack and fill")
        ack, fill = app.of("8", t11="T1")[:2]
        assert (ack[150], ack[39], ack[151]) == ("0", "0", "100")
        assert (fill[150], fill[39], fill[32], fill[31], fill[851]) == ("F", "2", "100", price_to_str(ask), "2")
        assert fill[37] == ack[37] and fill[17] != ack[17] and fill[207] == "XNYS"
        entries = read_record(tmp_path / RECORD_FILE)
        assert [(e.exec_type, e.exec_id) for e in entries] == [("0", ack[17]), ("F", fill[17])]
        assert all(e.participant == "HFTMM" for e in entries)
        await initiator.stop()
        await server.stop()

    run(scenario)


def test_cancel_replace_keeps_priority_and_mass_cancel(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path), *day)
        await server.start()
        initiator, session, app = await connect(server.port)
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        below = price_to_str(bid - 2 * 10_000_000)
        session.send("D", new_order("A", "1", 300, below))
        session.send("D", new_order("B", "1", 200, below))
        await until(lambda: len(app.of("8", t150="0")) == 2, what="two acks")
        # size down at the same price: keeps its place in front of B
        session.send("G", replace("A2", "A", "1", 100, below))
        await until(lambda: len(app.of("8", t150="5")) == 1, what="replaced")
        replaced = app.of("8", t150="5")[0]
        assert (replaced[11], replaced[41], replaced[38], replaced[151], replaced[39]) == ("A2", "A", "100", "100", "0")
        resting = server.engine.resting_orders("ACME", Side.BUY)
        assert [o.client_order_id for o in resting] == ["A2", "B"]
        # cancel of an unknown order: OrderCancelReject 102=1
        session.send("F", cancel("X2", "nope", "1", 100))
        await until(lambda: len(app.of("9")) == 1, what="cancel reject")
        reject = app.of("9")[0]
        assert (reject[434], reject[102], reject[41]) == ("1", "1", "nope")
        session.send("F", cancel("B2", "B", "1", 200))
        await until(lambda: len(app.of("8", t150="4")) == 1, what="cancel")
        assert app.of("8", t150="4")[0][41] == "B"
        # cancel again: the order is closed -> too late (102=0)
        session.send("F", cancel("B3", "B", "1", 200))
        await until(lambda: len(app.of("9")) == 2, what="too late")
        assert app.of("9")[1][102] == "0"
        session.send("D", new_order("C", "2", 100, price_to_str(bid + 50 * 10_000_000)))
        await until(lambda: len(app.of("8", t150="0")) == 3, what="ack C")
        session.send("q", [(11, "MC1"), (55, "ACME"), (60, "20240311-14:30:00"), (207, "XNYS"), (530, "1"),
                           (20001, "0")])
        await until(lambda: len(app.of("r")) == 1, what="mass cancel report")
        report = app.of("r")[0]
        assert (report[11], report[530], report[531], report[533]) == ("MC1", "1", "1", "2")
        assert {m[11] for m in app.of("8", t150="4")} == {"B2", "A2", "C"}
        assert server.engine.open_orders("HFTMM") == []
        kinds = [e.msg_type for e in read_record(tmp_path / RECORD_FILE)]
        assert kinds.count("9") == 2 and kinds.count("r") == 1 and kinds[-1] == "r"
        await initiator.stop()
        await server.stop()

    run(scenario)


def test_status_requests_stale_epoch_and_unsupported_type(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path), *day)
        await server.start()
        initiator, session, app = await connect(server.port)
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid - 10_000_000)
        session.send("D", new_order("S1", "1", 100, px, epoch=3))
        session.send("D", new_order("S2", "2", 100, price_to_str(bid + 90 * 10_000_000), epoch=3))
        await until(lambda: len(app.of("8", t150="0")) == 2, what="acks")
        session.send("F", cancel("S2c", "S2", "2", 100, epoch=3))
        await until(lambda: len(app.of("8", t150="4")) == 1, what="cancel")
        # H by ClOrdID
        session.send("H", [(11, "S1"), (54, "1"), (55, "ACME"), (207, "XNYS")])
        await until(lambda: len(app.of("8", t150="I")) == 1, what="status")
        status = app.of("8", t150="I")[0]
        assert (status[11], status[39], status[151], status[44]) == ("S1", "0", "100", px)
        # H by OrderID (37) wins over a ClOrdID the venue does not know
        session.send("H", [(11, "whatever"), (37, status[37]), (54, "1"), (55, "ACME"), (207, "XNYS")])
        await until(lambda: len(app.of("8", t150="I")) == 2, what="status by OrderID")
        assert app.of("8", t150="I")[1][11] == "S1"
        # AF 585=7: every order of the day, open or closed
        session.send("AF", [(584, "R1"), (585, "7")])
        await until(lambda: len(app.of("8", t584="R1")) == 2, what="mass status")
        first, last = app.of("8", t584="R1")
        assert (first[11], first[39], first[911], first.get(912)) == ("S1", "0", "2", None)
        assert (last[11], last[39], last[912]) == ("S2c", "4", "Y")
        # stale epoch: D rejected, F refused, q refused
        session.send("D", new_order("S3", "1", 100, px, epoch=2))
        await until(lambda: len(app.of("8", t150="8")) == 1, what="stale reject")
        assert app.of("8", t150="8")[0][58] == "stale epoch 2 < 3"
        session.send("F", cancel("S1c", "S1", "1", 100, epoch=1))
        await until(lambda: len(app.of("9")) == 1, what="stale cancel")
        assert app.of("9")[0][58] == "stale epoch 1 < 3"
        session.send("q", [(11, "MC"), (60, "20240311-14:30:00"), (530, "7"), (20001, "0")])
        await until(lambda: len(app.of("r")) == 1, what="stale mass cancel")
        assert (app.of("r")[0][531], app.of("r")[0][58]) == ("0", "stale epoch 0 < 3")
        assert len(server.engine.open_orders("HFTMM")) == 1
        # unsupported application message -> BusinessMessageReject 380=3
        session.send("R", [(131, "Q1"), (146, "1"), (55, "ACME")])
        await until(lambda: len(app.of("j")) == 1, what="business reject")
        assert (app.of("j")[0][372], app.of("j")[0][380]) == ("R", "3")
        # AF with no orders for another participant
        i2, s2, app2 = await connect(server.port, "MM2")
        s2.send("AF", [(584, "R2"), (585, "7")])
        await until(lambda: len(app2.of("8")) == 1, what="empty mass status")
        none = app2.of("8")[0]
        assert (none[37], none[150], none[39], none[911], none[912]) == ("NONE", "I", "0", "0", "Y")
        await i2.stop()
        await initiator.stop()
        await server.stop()

    run(scenario)
