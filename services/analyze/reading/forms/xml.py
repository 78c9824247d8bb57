"""What the XML readers (ownership, sale notice, beneficial ownership, financials) share: a
hardened parse and namespace-blind navigation.

The parse refuses any DTD (defusedxml, forbid_dtd): EDGAR's XML forms never have one, and an
entity declaration is how a hostile document expands or reads files. A text document has its
XML declaration dropped first, since the declaration names the encoding of bytes these
characters no longer are. Every failure is a SerializationError naming the document kind.

Names are compared by local name: filers' documents use the namespace of their form's schema,
some none at all, and the readers say which namespaces they accept at the root.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from services.common.errors import SerializationError

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def parse_xml(document: str | bytes, kind: str) -> Element:
    """The root element of `document`; `kind` names it in the error ("Form 144 document")."""
    if isinstance(document, str):
        document = XML_DECLARATION.sub("", document, count=1)
    else:
        document = document.lstrip()
    try:
        root: Any = fromstring(document, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, UnicodeError) as exc:
        raise SerializationError(f"not a readable {kind}: {exc}") from exc
    if not isinstance(root, Element):
        raise SerializationError(f"not a readable {kind}: no element")
    return root


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def child(element: Element | None, name: str) -> Element | None:
    """The first child named `name` (local name), None without one or without `element`."""
    if element is None:
        return None
    return next((c for c in element if local_name(c.tag) == name), None)


def children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [c for c in element if local_name(c.tag) == name]


def all_text(element: Element | None) -> str | None:
    """The element's text and its descendants', whitespace collapsed; None when empty."""
    if element is None:
        return None
    return " ".join("".join(element.itertext()).split()) or None
