"""Connection loss, resend, malformed frames, drop copy, replayed fills and a venue restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.fix.codec import FixMessage, encode
from hftmm.venue.market_replay import LEVEL
from hftmm.venue.orders import Side, price_to_str
from hftmm.venue.record import read_record
from hftmm.venue.server import RECORD_FILE
from tests.fix.proxy import FixProxy
from tests.venue_app.harness import Day, cancel, connect, make_server, new_order, now_text, run, until, venue_config

TICK = 10_000_000


def test_resting_order_fills_from_replayed_market_and_drop_copy_gets_every_report(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path, speed=120.0), events, specs)
        await server.start()
        dc_init, dc_session, drop = await connect(server.port, "DROPCOPY")
        initiator, session, app = await connect(server.port)
        now = server.clock.now_ns()
        ask, _ = server.engine.replayed_best("ACME", Side.SELL)
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        target = min(e[3] for s, e in events if now < e[0] <= now + 600 * 10**9 and e[1] == LEVEL
                     and e[2] == Side.SELL and e[4] > 0)
        assert target < ask, "the synthetic day must trade lower within ten minutes"
        session.send("D", new_order("R1", "1", 100, price_to_str(target), post_only=True))
        await until(lambda: any(m[150] == "F" for m in app.of("8", t11="R1")), timeout=15, what="maker fill")
        fill = [m for m in app.of("8", t11="R1") if m[150] == "F"][0]
        assert fill[851] == "1" and fill[31] == price_to_str(target)
        await until(lambda: len(drop.of("8")) >= 2, what="drop copies")
        mine = [m[17] for m in app.of("8")]
        assert [m[17] for m in drop.of("8")][:len(mine)] == mine
        assert all(m.get(115) == "HFTMM" for m in drop.of("8"))
        # the drop copy may not trade
        dc_session.send("D", new_order("DC1", "1", 100, price_to_str(bid)))
        await until(lambda: len(drop.of("j")) == 1, what="drop copy business reject")
        await initiator.stop()
        await dc_init.stop()
        await server.stop()

    run(scenario)


def test_connection_killed_mid_session_every_report_arrives_exactly_once(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path / "venue"), events, specs)
        await server.start()
        dropped_once: list[str] = []

        def drop(direction: str, message: FixMessage) -> bool:  # lose the first fill in flight, once
            if direction == "in" and message.msg_type == "8" and message.get(150) == "F" and not dropped_once:
                dropped_once.append(message[17])
                return True
            return False

        proxy = FixProxy(server.port, drop)
        await proxy.start()
        initiator, session, app = await connect(proxy.port, store_dir=tmp_path / "client")
        other, other_session, other_app = await connect(server.port, "MM2")
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid + TICK)  # inside the spread: MM2's sells reach these before the replayed bids
        for i in range(6):
            session.send("D", new_order(f"K{i}", "1", 100, px))
        await until(lambda: len(app.of("8", t150="0")) == 6, what="acks")
        # MM2 sells into two of them: the first fill is lost in flight, the second reveals the gap
        other_session.send("D", new_order("M1", "2", 100, px, tif="3"))
        other_session.send("D", new_order("M2", "2", 100, px, tif="3"))
        await until(lambda: len(app.of("8", t150="F")) >= 2, what="fills after resend")
        assert dropped_once and any(m.msg_type == "2" for d, m in proxy.frames if d == "out")
        # kill the TCP connection abruptly, then fill two more while the node is away
        for task in list(proxy._tasks):
            task.cancel()
        await until(lambda: not session.is_logged_on and not server.session("HFTMM").is_logged_on,
                    what="both sides notice the drop")
        other_session.send("D", new_order("M3", "2", 200, px, tif="3"))
        await until(lambda: len(other_app.of("8", t150="F")) >= 4, what="MM2 fills")
        await session.wait_logged_on(10)
        record = [e for e in read_record(tmp_path / "venue" / RECORD_FILE) if e.participant == "HFTMM" and e.msg_type == "8"]
        await until(lambda: len(app.of("8")) == len(record), what="every report after reconnect")
        await asyncio.sleep(0.3)
        assert [m[17] for m in app.of("8")] == [e.exec_id for e in record]
        assert len({m[17] for m in app.of("8")}) == len(record) >= 10
        await initiator.stop()
        await other.stop()
        await proxy.stop()
        await server.stop()

    run(scenario)


def test_corrupt_truncated_and_out_of_order_frames(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path), events, specs)
        await server.start()
        lost: list[int] = []

        def drop(direction: str, message: FixMessage) -> bool:  # lose one order on the way in: a sequence gap
            if direction == "out" and message.msg_type == "D" and message.get(11) == "G2" and not lost:
                lost.append(message.seq_num or 0)
                return True
            return False

        proxy = FixProxy(server.port, drop)
        await proxy.start()
        initiator, session, app = await connect(proxy.port)
        other, other_session, other_app = await connect(server.port, "MM2")
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid - 3 * TICK)
        # corrupt and truncated frames straight on MM2's connection (a proxy would choke on them)
        raw_write = other_session._write
        assert raw_write is not None

        def frame(seq: int, body: list[tuple[int, str]]) -> bytes:
            return encode([(35, "D"), (34, str(seq)), (49, "MM2"), (52, now_text()), (56, "HFTMMVENUE"), *body])

        bad = bytearray(frame(other_session.next_sender_seq, new_order("BAD", "1", 100, px)))
        bad[-2] = ord("0") if bad[-2] != ord("0") else ord("1")  # CheckSum off by some
        raw_write(bytes(bad))
        raw_write(frame(other_session.next_sender_seq, new_order("CUT", "1", 100, px))[:40])  # cut short
        for name in ("N1", "N2", "N3"):
            other_session.send("D", new_order(name, "1", 100, px))
        await until(lambda: {m[11] for m in other_app.of("8", t150="0")} == {"N1", "N2", "N3"}, what="MM2 acks")
        assert not other_app.of("8", t11="BAD") and not other_app.of("8", t11="CUT")
        mm2_side = server.session("MM2")
        assert sum(v for k, v in mm2_side.counters.items() if k.startswith("invalid_")) >= 2
        assert other_session.is_logged_on
        # out of order: the proxy loses G2, so G3 arrives first; the venue asks for a resend
        session.send("D", new_order("G1", "1", 100, px))
        session.send("D", new_order("G2", "1", 100, px))
        session.send("D", new_order("G3", "1", 100, px))
        await until(lambda: {m[11] for m in app.of("8", t150="0")} >= {"G1", "G2", "G3"}, what="acks after recovery")
        assert [m[11] for m in app.of("8", t150="0")] == ["G1", "G2", "G3"]
        assert server.session("HFTMM").counters["seq_too_high"] >= 1 and lost
        # a field with a value outside its enumeration: session-level Reject 373=5 naming tag 54
        session.send("D", new_order("E1", "Z", 100, px))
        await until(lambda: any(m.msg_type == "3" for m in app.admin), what="session reject")
        reject = next(m for m in app.admin if m.msg_type == "3")
        assert (reject[371], reject[373], reject[372]) == ("54", "5", "D")
        # garbage on a fresh connection is refused; the other sessions keep trading
        r, w = await asyncio.open_connection("127.0.0.1", server.port)
        logon = bytearray(encode([(35, "A"), (34, "1"), (49, "MM2"), (52, now_text()), (56, "HFTMMVENUE"), (98, "0"),
                                  (108, "1")]))
        logon[-2] = ord("0") if logon[-2] != ord("0") else ord("1")
        w.write(bytes(logon))  # a Logon with a bad CheckSum: dropped without an answer
        await w.drain()
        assert await asyncio.wait_for(r.read(), 5) == b""
        w.close()
        other_session.send("D", new_order("ALIVE", "2", 100, price_to_str(bid + 40 * TICK)))
        session.send("D", new_order("G4", "1", 100, px))
        await until(lambda: other_app.of("8", t11="ALIVE") and app.of("8", t11="G4"), what="both sessions serve")
        assert session.is_logged_on and other_session.is_logged_on
        await initiator.stop()
        await other.stop()
        await proxy.stop()
        await server.stop()

    run(scenario)


def test_restart_from_state_dir_continues_sequences_orders_and_record(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        config = venue_config(venue_catalog, tmp_path / "venue")
        server = make_server(config, events, specs)
        await server.start()
        initiator, session, app = await connect(server.port, store_dir=tmp_path / "client")
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid - 4 * TICK)
        session.send("D", new_order("P1", "1", 100, px))
        session.send("D", new_order("P2", "1", 200, px))
        await until(lambda: len(app.of("8", t150="0")) == 2, what="acks")
        venue_next = server.session("HFTMM").next_sender_seq
        await initiator.stop()
        await server.stop()

        restarted = make_server(config, events, specs)
        assert restarted.events_applied >= server.events_applied
        assert [o.client_order_id for o in restarted.engine.resting_orders("ACME", Side.BUY)] == ["P1", "P2"]
        await restarted.start()
        assert restarted.session("HFTMM").next_sender_seq == venue_next + 1  # + the Logout of the shutdown
        initiator, session, app = await connect(restarted.port, store_dir=tmp_path / "client")
        session.send("F", cancel("P1c", "P1", "1", 100))
        session.send("H", [(11, "P2"), (54, "1"), (55, "ACME"), (207, "XNYS")])
        await until(lambda: app.of("8", t150="4") and app.of("8", t150="I"), what="cancel and status after restart")
        assert app.of("8", t150="I")[0][151] == "200"
        entries = read_record(tmp_path / "venue" / RECORD_FILE)
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert [e.exec_type for e in entries] == ["0", "0", "4"]
        await initiator.stop()
        await restarted.stop()

    run(scenario)


def test_fills_while_node_is_away_survive_a_venue_restart(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        config = venue_config(venue_catalog, tmp_path / "venue")
        server = make_server(config, events, specs)
        await server.start()
        initiator, session, app = await connect(server.port, store_dir=tmp_path / "client")
        other, other_session, other_app = await connect(server.port, "MM2")
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid + TICK)
        session.send("D", new_order("W1", "1", 300, px))
        await until(lambda: len(app.of("8", t150="0")) == 1, what="ack")
        await initiator.stop()  # the node logs out
        other_session.send("D", new_order("X1", "2", 100, px, tif="3"))
        other_session.send("D", new_order("X2", "2", 100, px, tif="3"))
        await until(lambda: len(other_app.of("8", t150="F")) == 2, what="MM2 fills")
        assert len(server.gateway.pending["HFTMM"]) == 2  # the node's fills wait for its next Logon
        await other.stop()
        await server.stop()

        restarted = make_server(config, events, specs)
        await restarted.start()
        initiator, session, app2 = await connect(restarted.port, store_dir=tmp_path / "client")
        await until(lambda: len(app2.of("8", t150="F")) == 2, what="queued fills after the restart")
        fills = app2.of("8", t150="F")
        assert [(m[11], m[32], m[39], m[151]) for m in fills] == [("W1", "100", "1", "200"), ("W1", "100", "1", "100")]
        record = [e.exec_id for e in read_record(tmp_path / "venue" / RECORD_FILE) if e.participant == "HFTMM"]
        assert [m[17] for m in app.of("8") + app2.of("8")] == record
        assert "HFTMM" not in restarted.gateway.pending  # (the drop copy never logged on: its copies wait)
        await initiator.stop()
        await restarted.stop()

    run(scenario)


def test_day_orders_expire_at_the_close_gtc_stays(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        server = make_server(venue_config(venue_catalog, tmp_path, start="15:59:56", speed=2.0), events, specs)
        await server.start()
        initiator, session, app = await connect(server.port)
        session.send("D", new_order("DAY1", "1", 100, "40.00", tif="0"))
        session.send("D", new_order("GTC1", "1", 100, "40.00", tif="1"))
        await until(lambda: len(app.of("8", t150="0")) == 2, what="acks")
        assert not app.of("8", t150="C"), "the close must come after the orders"
        await until(lambda: len(app.of("8", t150="C")) == 1, timeout=15, what="expiry at 16:00")
        expired = app.of("8", t150="C")[0]
        assert (expired[11], expired[39], expired[151], expired[58]) == ("DAY1", "C", "0", "end of day")
        assert [o.client_order_id for o in server.engine.open_orders("HFTMM")] == ["GTC1"]
        await initiator.stop()
        await server.stop()

    run(scenario)


def test_unclean_restart_is_detected_and_ids_never_repeat(venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    events, specs = day

    async def scenario() -> None:
        config = venue_config(venue_catalog, tmp_path / "venue", snapshot_interval_s=3600.0)
        server = make_server(config, events, specs)
        await server.start()
        initiator, session, app = await connect(server.port, store_dir=tmp_path / "client")
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid - 4 * TICK)
        session.send("D", new_order("U1", "1", 100, px))
        await until(lambda: len(app.of("8", t150="0")) == 1, what="ack U1")
        server.save_state()  # the last periodic snapshot
        session.send("D", new_order("U2", "1", 100, px))
        await until(lambda: len(app.of("8", t150="0")) == 2, what="ack U2")
        # the venue dies: no shutdown snapshot
        for task in server._tasks:
            task.cancel()
        await initiator.stop()
        await server.acceptor.stop()
        for s in server.sessions:
            s.store.close()
        server.record.close()

        restarted = make_server(config, events, specs)
        assert restarted.unclean_restart and restarted.gateway.generation == 1
        assert [o.client_order_id for o in restarted.engine.open_orders("HFTMM")] == ["U1"]
        await restarted.start()
        initiator, session, app2 = await connect(restarted.port, store_dir=tmp_path / "client")
        session.send("D", new_order("U3", "1", 100, px))
        session.send("H", [(11, "U1"), (54, "1"), (55, "ACME"), (207, "XNYS")])
        await until(lambda: app2.of("8", t150="0") and app2.of("8", t150="I"), what="ack U3 and status of U1")
        acks = app.of("8", t150="0") + app2.of("8", t150="0")
        assert [m[11] for m in acks] == ["U1", "U2", "U3"]
        assert len({m[37] for m in acks}) == 3 and app2.of("8", t150="0")[0][37].startswith("1.")
        assert app2.of("8", t150="I")[0][37] == acks[0][37]  # U1 keeps the id it was given
        exec_ids = [e.exec_id for e in read_record(tmp_path / "venue" / RECORD_FILE)]
        assert len(exec_ids) == len(set(exec_ids)) == 3
        await initiator.stop()
        await restarted.stop()

    run(scenario)


def test_trade_capture_request_answers_every_fill_of_the_day_across_a_restart(
        venue_catalog: Path, day: Day, tmp_path: Path) -> None:
    """AD → AQ + one AE per fill, with the ExecIDs, prices and liquidity the ExecutionReports had."""
    events, specs = day

    async def scenario() -> None:
        config = venue_config(venue_catalog, tmp_path / "venue")
        server = make_server(config, events, specs)
        await server.start()
        initiator, session, app = await connect(server.port, store_dir=tmp_path / "client")
        other, other_session, other_app = await connect(server.port, "MM2")
        session.send("AD", [(568, "TC0"), (569, "0"), (263, "0")])
        await until(lambda: app.of("AQ", t568="TC0"), what="ack of an empty day")
        assert (app.of("AQ")[0][748], app.of("AQ")[0][749], app.of("AQ")[0][750]) == ("0", "0", "0")
        bid, _ = server.engine.replayed_best("ACME", Side.BUY)
        px = price_to_str(bid + TICK)
        session.send("D", new_order("W1", "1", 300, px))
        await until(lambda: len(app.of("8", t150="0")) == 1, what="ack")
        other_session.send("D", new_order("X1", "2", 100, px, tif="3"))
        other_session.send("D", new_order("X2", "2", 100, px, tif="3"))
        await until(lambda: len(app.of("8", t150="F")) == 2, what="two partial fills of W1")
        fills = app.of("8", t150="F")
        await initiator.stop()
        await other.stop()
        await server.stop()

        restarted = make_server(config, events, specs)  # the fills of the day survive the restart
        await restarted.start()
        initiator, session, app = await connect(restarted.port, store_dir=tmp_path / "client")
        session.send("AD", [(568, "TC1"), (569, "0"), (263, "0")])
        await until(lambda: len(app.of("AE", t568="TC1")) == 2, what="two trade capture reports")
        ack = app.of("AQ", t568="TC1")[0]
        assert (ack[748], ack[749], ack[750]) == ("2", "0", "0")
        reports = app.of("AE", t568="TC1")
        assert [(r[17], r[37], r[11], r[54], r[32], r[31], r[851], r[60]) for r in reports] == [
            (f[17], f[37], f[11], f[54], f[32], f[31], f[851], f[60]) for f in fills]
        assert [(r[748], r.get(912), r[570], r[552]) for r in reports] == [("2", "N", "Y", "1"), ("2", "Y", "Y", "1")]
        session.send("AD", [(568, "TC2"), (569, "1")])  # by trade id: not served
        await until(lambda: app.of("AQ", t568="TC2"), what="reject")
        reject = app.of("AQ", t568="TC2")[0]
        assert (reject[749], reject[750]) == ("8", "2") and "tag 569" in reject[58]
        await initiator.stop()
        await restarted.stop()

    run(scenario)
