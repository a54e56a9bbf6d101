"""The callback interface between a FIX session and what sits on top of it (an execution client,
a venue simulator). Same hooks as QuickFIX's ``Application``, so its semantics carry over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.fix.errors import UnsupportedMessageType

if TYPE_CHECKING:
    from adapters.fix.codec import FixMessage
    from adapters.fix.session import Session


class Application:
    """Base class with do-nothing hooks; override what you need.

    Every hook runs on the event loop, inside the session's processing of one message: keep them
    short (hand heavy work to a task or a queue).
    """

    def on_create(self, session: Session) -> None:
        """The session object exists (called once)."""

    def on_logon(self, session: Session) -> None:
        """Both Logons were exchanged; application messages may flow."""

    def on_logout(self, session: Session) -> None:
        """The session stopped being logged on (Logout exchange or lost connection)."""

    def to_admin(self, message: FixMessage, session: Session) -> None:
        """An admin message is about to be sent; it may be modified (e.g. add Username/Password to
        the Logon). ``message.fields`` starts at MsgType (35), without 8, 9 and 10."""

    def from_admin(self, message: FixMessage, session: Session) -> None:
        """An admin message passed the session checks. Raise ``RejectLogon`` on a Logon to refuse it."""

    def to_app(self, message: FixMessage, session: Session) -> None:
        """An application message is about to be sent or resent (resends carry PossDupFlag 43=Y).
        Raise ``DoNotSend`` to suppress it (on a resend it is replaced by a gap fill)."""

    def from_app(self, message: FixMessage, session: Session) -> None:
        """An application message passed the session checks, in sequence.

        Raise ``UnsupportedMessageType`` or ``BusinessReject`` to answer with a BusinessMessageReject
        (35=j). The base class rejects every message type: a session that nobody handles should
        say so rather than swallow orders.
        """
        raise UnsupportedMessageType(message.msg_type)
