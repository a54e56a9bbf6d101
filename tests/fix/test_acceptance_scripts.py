"""QuickFIX's FIX 4.4 session-layer acceptance scripts, run against our acceptor.

Our acceptor plays QuickFIX's test server: SenderCompID ISLD, TargetCompID TW44, ResetOnLogon=Y, the
packaged FIX 4.4 dictionary, a fresh file store per script. Its application is venue-like
(:class:`VenueApplication`: every business message gets a BusinessMessageReject "Unsupported Message
Type"), except for the scripts in ``ECHO_SCRIPTS``: those expect QuickFIX's test application, which
echoes NewOrderSingle and SecurityDefinition back to the sender, so they run with
:class:`EchoApplication`, a copy of that test application (``at_application.h``) kept in the tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.fix.application import Application
from adapters.fix.codec import BY_TAG, FixMessage
from adapters.fix.config import SessionConfig, StoreConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.errors import UnsupportedMessageType
from adapters.fix.session import SESSION_HEADER_TAGS, Session
from adapters.fix.store import FileStore
from adapters.fix.transport import FixAcceptor
from tests.conftest import shared_dir
from tests.fix.def_runner import Comparator, run_script

# Scripts whose expected output includes the echo of an application message (35=D or 35=d).
ECHO_SCRIPTS = frozenset({
    "14e_IncorrectEnumValue.def",
    "15_HeaderAndBodyFieldsOrderedDifferently.def",
    "19a_PossResendMessageThatHAsAlreadyBeenSent.def",
    "19b_PossResendMessageThatHasNotBeenSent.def",
    "20_SimultaneousResendRequest.def",
    "21_RepeatingGroupSpecifierWithValueOfZero.def",
    "2d_GarbledMessage.def",
    "2f_PossDupOrigSendingTimeTooHigh.def",
    "2g_PossDupNoOrigSendingTime.def",
    "2m_BodyLengthValueNotCorrect.def",
    "3b_InvalidChecksum.def",
    "3c_GarbledMessage.def",
    "8_AdminAndApplicationMessages.def",
    "8_OnlyApplicationMessages.def",
})


class VenueApplication(Application):
    """A venue that supports no business message: the base class's BusinessMessageReject."""


class EchoApplication(Application):
    """QuickFIX's acceptance-test application: echo NewOrderSingle (except a PossResend=Y repeat of
    a ClOrdID already seen on this session) and SecurityDefinition, fields in tag order."""

    def __init__(self) -> None:
        self.order_ids: set[str] = set()

    def on_logout(self, session: Session) -> None:
        self.order_ids.clear()

    def from_app(self, message: FixMessage, session: Session) -> None:
        if message.msg_type not in ("D", "d"):
            raise UnsupportedMessageType(message.msg_type)
        if message.msg_type == "D":
            cl_ord_id = message.get(11, "") or ""
            if message.get(97) == "Y" and cl_ord_id in self.order_ids:
                return
            self.order_ids.add(cl_ord_id)
        header = [(t, v) for t, v in message.fields if session.dictionary.is_header_field(t) and t not in SESSION_HEADER_TAGS]
        body = sorted(((t, v) for t, v in message.fields
                       if not session.dictionary.is_header_field(t) and not session.dictionary.is_trailer_field(t)),
                      key=BY_TAG)
        session.send(message.msg_type, body, header=header)


def _scripts() -> list[Path]:
    found = shared_dir()
    if found is None:
        return []
    return sorted((found / "fix" / "definitions" / "fix44").glob("*.def"))


async def _run(script: Path, store_dir: Path, dictionary: DataDictionary, comparator: Comparator) -> Session:
    config = SessionConfig(sender_comp_id="ISLD", target_comp_id="TW44", role="acceptor", reset_on_logon=True,
                           store=StoreConfig(kind="file", path=str(store_dir), sync=False))
    application = EchoApplication() if script.name in ECHO_SCRIPTS else VenueApplication()
    session = Session(config, application, FileStore(store_dir, config.session_name, sync=False), dictionary)
    acceptor = FixAcceptor([session], "127.0.0.1", 0)
    await acceptor.start()
    try:
        await run_script(script, "127.0.0.1", acceptor.port, comparator)
    finally:
        await acceptor.stop()
        session.store.close()
    return session


@pytest.mark.parametrize("script", _scripts(), ids=lambda p: p.stem)
def test_acceptance_script(script: Path, fix_shared: Path, dictionary: DataDictionary, tmp_path: Path) -> None:
    comparator = Comparator((fix_shared / "definitions" / "fields.fmt").read_text())
    asyncio.run(_run(script, tmp_path / "store", dictionary, comparator))


def test_every_script_is_collected(fix_shared: Path) -> None:
    assert len(_scripts()) == 59
    assert ECHO_SCRIPTS <= {p.name for p in _scripts()}
