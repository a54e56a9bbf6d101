"""The FIX data dictionary (QuickFIX's XML format) and message validation against it.

:meth:`DataDictionary.validate` reproduces QuickFIX's checks and their order, because the session's
Reject must name the same first problem a counterparty's test scripts expect:

1. structure: header fields before the body, the trailer last (TagOutOfOrder, 373=14);
2. MsgType defined (373=11);
3. required fields: header, trailer, then body, each in tag order (373=1);
4. header, trailer, then body fields in tag order: repeated tag (13), empty value (4), data format
   (6), enumerated value (5), tag defined at all (0), tag defined for this message type (2),
   NumInGroup count (16); then the same inside each repeating-group entry.

The XML ships with this package (``adapters/fix/spec/FIX44.xml``, QuickFIX Software License 1.0,
see ``spec/LICENSE.quickfix``); any other file in the same format can be loaded instead.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.fix.codec import BY_TAG, FixMessage
from adapters.fix.errors import (
    GroupCountMismatch,
    IncorrectDataFormat,
    IncorrectTagValue,
    InvalidMsgType,
    InvalidTagNumber,
    RepeatedTag,
    RequiredTagMissing,
    TagNotDefinedForMessage,
    TagOutOfOrder,
    TagWithoutValue,
)

PACKAGED_FIX44 = Path(__file__).resolve().parent / "spec" / "FIX44.xml"

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
_TIMESTAMP = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?")
_TIME_ONLY = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?")
_DATE_ONLY = re.compile(r"(\d{4})(\d{2})(\d{2})")

_INT_TYPES = {"INT", "LENGTH", "SEQNUM", "NUMINGROUP", "TAGNUM", "DAYOFMONTH"}
_FLOAT_TYPES = {"FLOAT", "QTY", "PRICE", "PRICEOFFSET", "AMT", "PERCENTAGE"}
_MULTI_TYPES = {"MULTIPLEVALUESTRING", "MULTIPLESTRINGVALUE", "MULTIPLECHARVALUE"}


def fix44_spec_path(shared_dir: Path | None = None) -> Path:
    """Where FIX44.xml is: ``<shared_dir>/fix/spec/FIX44.xml`` when given, else the packaged copy."""
    if shared_dir is not None:
        return Path(shared_dir) / "fix" / "spec" / "FIX44.xml"
    return PACKAGED_FIX44


def _valid_date(year: str, month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _valid_time(hour: str, minute: str, second: str) -> bool:
    return int(hour) <= 23 and int(minute) <= 59 and int(second) <= 60


def _timestamp_ok(value: str) -> bool:
    m = _TIMESTAMP.fullmatch(value)
    return m is not None and _valid_date(*m.group(1, 2, 3)) and _valid_time(*m.group(4, 5, 6))


def _time_only_ok(value: str) -> bool:
    m = _TIME_ONLY.fullmatch(value)
    return m is not None and _valid_time(*m.groups())


def _date_only_ok(value: str) -> bool:
    m = _DATE_ONLY.fullmatch(value)
    return m is not None and _valid_date(*m.groups())


def format_check(type_name: str) -> Callable[[str], object] | None:
    """The well-formedness test of a FIX data type (truthy = well formed), ``None`` if any string goes."""
    if type_name in _INT_TYPES:
        return _INT.fullmatch
    if type_name in _FLOAT_TYPES:
        return _FLOAT.fullmatch
    if type_name == "CHAR":
        return lambda value: len(value) == 1
    if type_name == "BOOLEAN":
        return ("Y", "N").__contains__
    return {"UTCTIMESTAMP": _timestamp_ok, "UTCTIMEONLY": _time_only_ok, "UTCDATEONLY": _date_only_ok}.get(type_name)


def value_has_format(type_name: str, value: str) -> bool:
    """Whether ``value`` is well formed for a FIX data type (unknown types accept any string)."""
    check = format_check(type_name)
    return check is None or bool(check(value))


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of the dictionary."""

    tag: int
    name: str
    type: str
    values: frozenset[str] | None  # the enumeration, None when any value of the type goes


@dataclass(slots=True)
class GroupDef:
    """A repeating group: its NumInGroup tag, the delimiter (first field) and the members."""

    count_tag: int
    delimiter: int
    fields: dict[int, bool] = field(default_factory=dict)  # member tag -> required
    groups: dict[int, GroupDef] = field(default_factory=dict)  # nested groups by count tag


@dataclass(slots=True)
class MessageDef:
    """A message type: its top-level fields (components flattened) and groups."""

    msg_type: str
    name: str
    category: str
    fields: dict[int, bool] = field(default_factory=dict)  # top-level tag -> required
    groups: dict[int, GroupDef] = field(default_factory=dict)
    required: tuple[int, ...] = ()  # required top-level tags in tag order


@dataclass(slots=True)
class GroupEntry:
    """One entry of a repeating group as parsed from a message."""

    fields: list[tuple[int, str]]
    groups: list[tuple[int, str, list[GroupEntry]]]  # nested (count tag, count value, entries)


@dataclass(slots=True)
class Sections:
    """A message split into header, body and trailer, with repeating groups parsed.

    ``body`` keeps every top-level body field (group count tags included) and ``groups`` the entries
    of each group by position: (count tag, count value, entries).
    """

    header: list[tuple[int, str]]
    body: list[tuple[int, str]]
    trailer: list[tuple[int, str]]
    groups: list[tuple[int, str, list[GroupEntry]]]
    header_groups: list[tuple[int, str, list[GroupEntry]]]
    out_of_order_tag: int | None


class DataDictionary:
    """A FIX data dictionary loaded from QuickFIX's XML format.

    Parameters
    ----------
    path : Path or str, optional
        The XML file; the packaged FIX 4.4 dictionary if omitted.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else PACKAGED_FIX44
        root = ET.parse(self.path).getroot()
        self.begin_string = f"{root.get('type', 'FIX')}.{root.get('major')}.{root.get('minor')}"
        self.fields_by_tag: dict[int, FieldDef] = {}
        self.tags_by_name: dict[str, int] = {}
        for node in _children(root, "fields"):
            values = [v.get("enum", "") for v in node.findall("value")]
            fdef = FieldDef(int(node.get("number", "0")), node.get("name", ""), node.get("type", "STRING"),
                            frozenset(values) if values else None)
            self.fields_by_tag[fdef.tag] = fdef
            self.tags_by_name[fdef.name] = fdef.tag
        # per defined tag: (format test or None, enumeration test or None), built once
        self._checks = {tag: (format_check(f.type), _enum_check(f)) for tag, f in self.fields_by_tag.items()}
        self._components = {c.get("name", ""): c for c in _children(root, "components")}
        self.header = MessageDef("_header_", "Header", "admin")
        self._collect(root.find("header"), self.header.fields, self.header.groups, True)
        self.trailer = MessageDef("_trailer_", "Trailer", "admin")
        self._collect(root.find("trailer"), self.trailer.fields, self.trailer.groups, True)
        self.messages: dict[str, MessageDef] = {}
        for node in _children(root, "messages"):
            mdef = MessageDef(node.get("msgtype", ""), node.get("name", ""), node.get("msgcat", "app"))
            self._collect(node, mdef.fields, mdef.groups, True)
            mdef.required = tuple(sorted(t for t, req in mdef.fields.items() if req))
            self.messages[mdef.msg_type] = mdef
        for part in (self.header, self.trailer):
            part.required = tuple(sorted(t for t, req in part.fields.items() if req))
        self._header_tags = frozenset(self.header.fields) | _all_group_tags(self.header.groups)
        self._trailer_tags = frozenset(self.trailer.fields)

    def _collect(self, node: ET.Element | None, fields: dict[int, bool], groups: dict[int, GroupDef],
                 required_context: bool) -> None:
        """Flatten fields, components and groups of ``node`` into ``fields``/``groups``."""
        if node is None:
            return
        for child in node:
            required = required_context and child.get("required") == "Y"
            name = child.get("name", "")
            if child.tag == "field":
                fields[self.tags_by_name[name]] = required
            elif child.tag == "component":
                self._collect(self._components[name], fields, groups, required)
            elif child.tag == "group":
                count_tag = self.tags_by_name[name]
                fields[count_tag] = required
                gdef = GroupDef(count_tag, 0)
                self._collect(child, gdef.fields, gdef.groups, True)
                gdef.delimiter = next(iter(gdef.fields))
                groups[count_tag] = gdef

    # --- lookups --------------------------------------------------------------------------

    def is_header_field(self, tag: int) -> bool:
        """Whether ``tag`` belongs to the standard header."""
        return tag in self._header_tags

    def is_trailer_field(self, tag: int) -> bool:
        """Whether ``tag`` belongs to the standard trailer."""
        return tag in self._trailer_tags

    def is_admin(self, msg_type: str) -> bool:
        """Whether the message type is a session-level (admin) message."""
        mdef = self.messages.get(msg_type)
        return mdef is not None and mdef.category == "admin"

    # --- parsing into sections ------------------------------------------------------------

    def split(self, message: FixMessage) -> Sections:
        """Split a decoded message into header, body and trailer and parse its repeating groups."""
        fields = message.fields
        msg_type = message.msg_type
        mdef = self.messages.get(msg_type)
        body_groups = mdef.groups if mdef is not None else {}
        header: list[tuple[int, str]] = []
        body: list[tuple[int, str]] = []
        trailer: list[tuple[int, str]] = []
        groups: list[tuple[int, str, list[GroupEntry]]] = []
        header_groups: list[tuple[int, str, list[GroupEntry]]] = []
        section = 0  # 0 header, 1 body, 2 trailer
        out_of_order: int | None = None
        header_tags, trailer_tags = self._header_tags, self._trailer_tags
        i, n = 0, len(fields)
        while i < n:
            tag, value = fields[i]
            i += 1
            if tag in header_tags:
                if section != 0 and out_of_order is None:
                    out_of_order = tag
                header.append((tag, value))
                gdef = self.header.groups.get(tag)
                if gdef is not None:
                    entries, i = _parse_group(fields, i, gdef)
                    header_groups.append((tag, value, entries))
            elif tag in trailer_tags:
                section = 2
                trailer.append((tag, value))
            else:
                if section == 2:
                    if out_of_order is None:
                        out_of_order = tag
                else:
                    section = 1
                body.append((tag, value))
                if body_groups and (gdef := body_groups.get(tag)) is not None:
                    entries, i = _parse_group(fields, i, gdef)
                    groups.append((tag, value, entries))
        return Sections(header, body, trailer, groups, header_groups, out_of_order)

    # --- validation -----------------------------------------------------------------------

    def validate(self, message: FixMessage) -> Sections:
        """Check a message against the dictionary; the first problem raises (see module docstring).

        Returns
        -------
        Sections
            The message split into header, body and trailer (reuse it, it cost a pass).

        Raises
        ------
        SessionRejectError
            The subclass says which SessionRejectReason (373) to send, ``tag`` the RefTagID (371).
        """
        sections = self.split(message)
        if sections.out_of_order_tag is not None:
            raise TagOutOfOrder(sections.out_of_order_tag)
        msg_type = message.msg_type
        mdef = self.messages.get(msg_type)
        if mdef is None:
            raise InvalidMsgType(None, f"MsgType {msg_type!r}")
        header_tags = {t for t, _ in sections.header}
        for tag in self.header.required:
            if tag not in header_tags:
                raise RequiredTagMissing(tag, "header")
        trailer_tags = {t for t, _ in sections.trailer}
        for tag in self.trailer.required:
            if tag not in trailer_tags:
                raise RequiredTagMissing(tag, "trailer")
        body_tags = {t for t, _ in sections.body}
        for tag in mdef.required:
            if tag not in body_tags:
                raise RequiredTagMissing(tag, mdef.name)
        self._check_group_required(sections.groups, mdef.groups)
        self._iterate(sections.header, None, sections.header_groups)
        self._iterate(sections.trailer, None, [])
        self._iterate(sections.body, mdef, sections.groups)
        self._iterate_groups(sections.header_groups, self.header.groups)
        self._iterate_groups(sections.groups, mdef.groups)
        return sections

    def _check_group_required(self, groups: list[tuple[int, str, list[GroupEntry]]],
                              defs: dict[int, GroupDef]) -> None:
        for count_tag, _, entries in groups:
            gdef = defs[count_tag]
            required = sorted(t for t, req in gdef.fields.items() if req)
            for entry in entries:
                present = {t for t, _ in entry.fields}
                for tag in required:
                    if tag not in present:
                        raise RequiredTagMissing(tag, f"group {count_tag}")
                self._check_group_required(entry.groups, gdef.groups)

    def _iterate(self, fields: list[tuple[int, str]], mdef: MessageDef | GroupDef | None,
                 groups: list[tuple[int, str, list[GroupEntry]]]) -> None:
        """QuickFIX's per-field checks, in tag order (see the module docstring)."""
        entry_counts = {count_tag: len(entries) for count_tag, _, entries in groups} if groups else None
        allowed = mdef.fields if mdef is not None else None
        checks = self._checks
        last = None
        for tag, value in sorted(fields, key=BY_TAG):
            if tag == last:
                raise RepeatedTag(tag)
            last = tag
            if not value:
                raise TagWithoutValue(tag)
            check = checks.get(tag)
            if check is None:
                raise InvalidTagNumber(tag)
            has_format, in_enum = check
            if has_format is not None and not has_format(value):
                raise IncorrectDataFormat(tag, f"{value!r} is not a {self.fields_by_tag[tag].type}")
            if in_enum is not None and not in_enum(value):
                raise IncorrectTagValue(tag, f"{value!r}")
            if allowed is not None and tag not in allowed:
                raise TagNotDefinedForMessage(tag, getattr(mdef, "name", ""))
            if entry_counts is not None and tag in entry_counts and int(value) != entry_counts[tag]:
                raise GroupCountMismatch(tag, f"NumInGroup {value}, {entry_counts[tag]} entries")

    def _iterate_groups(self, groups: list[tuple[int, str, list[GroupEntry]]], defs: dict[int, GroupDef]) -> None:
        for count_tag, _, entries in groups:
            gdef = defs[count_tag]
            for entry in entries:
                self._iterate(entry.fields, gdef, entry.groups)
                self._iterate_groups(entry.groups, gdef.groups)


def _children(root: ET.Element, name: str) -> list[ET.Element]:
    node = root.find(name)
    return list(node) if node is not None else []


def _enum_check(fdef: FieldDef) -> Callable[[str], bool] | None:
    """The enumeration test of a field (space-separated values for the multiple-value types)."""
    values = fdef.values
    if values is None:
        return None
    if fdef.type in _MULTI_TYPES:
        return lambda value: all(part in values for part in value.split(" "))
    return values.__contains__


def _all_group_tags(groups: dict[int, GroupDef]) -> frozenset[int]:
    tags: set[int] = set()
    for gdef in groups.values():
        tags.update(gdef.fields)
        tags.update(_all_group_tags(gdef.groups))
    return frozenset(tags)


def _parse_group(fields: list[tuple[int, str]], i: int, gdef: GroupDef) -> tuple[list[GroupEntry], int]:
    """Read the entries of a group starting at ``fields[i]`` (QuickFIX's rule: an entry starts at
    the delimiter or at a member already set in the current entry; a non-member ends the group)."""
    entries: list[GroupEntry] = []
    current: GroupEntry | None = None
    seen: set[int] = set()
    n = len(fields)
    while i < n:
        tag, value = fields[i]
        if tag not in gdef.fields:
            break
        if tag == gdef.delimiter or current is None or tag in seen:
            current = GroupEntry([], [])
            entries.append(current)
            seen = set()
        current.fields.append((tag, value))
        seen.add(tag)
        i += 1
        nested = gdef.groups.get(tag)
        if nested is not None:
            sub, i = _parse_group(fields, i, nested)
            current.groups.append((tag, value, sub))
    return entries, i
