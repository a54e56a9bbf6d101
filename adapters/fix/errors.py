"""Errors of the FIX engine.

Two families, because the session layer treats them differently:

- :class:`InvalidMessage` and its subclasses: the frame cannot be trusted at all (garbled, wrong
  BodyLength or CheckSum, the first three fields out of order). FIX says such a message is ignored
  (not rejected, and its MsgSeqNum is not consumed), and the counterparty recovers it by resend.
- :class:`SessionRejectError` and its subclasses: a well-formed frame that breaks the data
  dictionary. The session answers with a Reject (35=3) whose SessionRejectReason (373) and
  RefTagID (371) come from the error's ``reason`` and ``tag``.
"""

from __future__ import annotations


class FixError(Exception):
    """Base of every FIX engine error."""


class InvalidMessage(FixError):
    """A frame that is not a FIX message one can act on; the session ignores it.

    Parameters
    ----------
    problem : str
        What is wrong, naming the field where there is one.
    tag : int or None
        The tag concerned, when one can be named.
    """

    def __init__(self, problem: str, tag: int | None = None) -> None:
        self.problem = problem
        self.tag = tag
        super().__init__(problem if tag is None else f"tag {tag}: {problem}")


class GarbledMessage(InvalidMessage):
    """A field without ``=``, a tag that is not an integer, a missing SOH or a frame too short."""


class BadBodyLength(InvalidMessage):
    """BodyLength (9) does not match the number of bytes between it and CheckSum (10)."""


class BadChecksum(InvalidMessage):
    """CheckSum (10) is not the byte sum modulo 256 of everything before it."""


class HeaderOrderError(InvalidMessage):
    """BeginString (8), BodyLength (9) and MsgType (35) are not the first three fields."""


class SessionRejectError(FixError):
    """A message that breaks the data dictionary; answered with a session-level Reject (35=3).

    Parameters
    ----------
    tag : int or None
        RefTagID (371): the offending tag, or ``None`` when the problem is the whole message.
    detail : str
        Extra context for logs (the Reject's Text (58) uses the standard wording).
    """

    reason: int = 99
    text: str = "Other"

    def __init__(self, tag: int | None = None, detail: str = "") -> None:
        self.tag = tag
        self.detail = detail
        where = "" if tag is None else f" (tag {tag})"
        super().__init__(f"{self.text}{where}{': ' + detail if detail else ''}")


class InvalidTagNumber(SessionRejectError):
    """The tag is not defined in the data dictionary (or is zero or negative)."""

    reason, text = 0, "Invalid tag number"


class RequiredTagMissing(SessionRejectError):
    """A field required by the message type (or the header) is absent."""

    reason, text = 1, "Required tag missing"


class TagNotDefinedForMessage(SessionRejectError):
    """A known tag that does not belong to this message type."""

    reason, text = 2, "Tag not defined for this message type"


class TagWithoutValue(SessionRejectError):
    """``tag=`` with an empty value."""

    reason, text = 4, "Tag specified without a value"


class IncorrectTagValue(SessionRejectError):
    """A value outside the field's enumeration (or otherwise out of range)."""

    reason, text = 5, "Value is incorrect (out of range) for this tag"


class IncorrectDataFormat(SessionRejectError):
    """A value that does not parse as the field's type (e.g. ``38=+200.00``)."""

    reason, text = 6, "Incorrect data format for value"


class CompIdProblem(SessionRejectError):
    """SenderCompID/TargetCompID do not match the session."""

    reason, text = 9, "CompID problem"


class SendingTimeAccuracyProblem(SessionRejectError):
    """SendingTime too far from our clock, or OrigSendingTime later than SendingTime."""

    reason, text = 10, "SendingTime accuracy problem"


class InvalidMsgType(SessionRejectError):
    """MsgType (35) is not defined in the data dictionary."""

    reason, text = 11, "Invalid MsgType"


class RepeatedTag(SessionRejectError):
    """A tag outside any repeating group appears more than once."""

    reason, text = 13, "Tag appears more than once"


class TagOutOfOrder(SessionRejectError):
    """A header field after the body, or a body field after the trailer."""

    reason, text = 14, "Tag specified out of required order"


class GroupCountMismatch(SessionRejectError):
    """A NumInGroup value that differs from the number of entries that follow."""

    reason, text = 16, "Incorrect NumInGroup count for repeating group"


class UnsupportedMessageType(FixError):
    """Raised by an application for a message type it does not handle (BusinessMessageReject 380=3)."""


class BusinessReject(FixError):
    """Raised by an application to answer with a BusinessMessageReject (35=j).

    Parameters
    ----------
    reason : int
        BusinessRejectReason (380): 0 other, 1 unknown ID, 2 unknown security, 3 unsupported message
        type, 4 application not available, 5 conditionally required field missing.
    text : str
        Text (58).
    tag : int or None
        RefTagID (371), if one field is at fault.
    """

    def __init__(self, reason: int, text: str, tag: int | None = None) -> None:
        self.reason = reason
        self.text = text
        self.tag = tag
        super().__init__(f"business reject {reason}: {text}" + ("" if tag is None else f" (tag {tag})"))


class DoNotSend(FixError):
    """Raised by ``Application.to_app`` to suppress a message (on resend it is gap-filled instead)."""


class RejectLogon(FixError):
    """Raised by ``Application.from_admin`` on a Logon to refuse it; the text goes into the Logout."""


class SessionNotLoggedOn(FixError):
    """An application message was sent while the session is not logged on."""


class StoreError(FixError):
    """The message store cannot be read or written (a corrupt file, an unreachable Redis)."""
