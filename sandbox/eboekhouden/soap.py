"""SOAP 1.1 plumbing of the e-Boekhouden simulator: WSDL, schema, envelopes, faults.

The schema is the ``<s:schema>`` embedded in the service's own WSDL (the connector's
package copy, ``app/clients/eboekhouden/eboekhouden.wsdl``). Requests are validated against it the
way the brief for a strict ASMX service asks (a schema error is a ``soap:Client`` fault);
the one leniency copied from .NET's XmlSerializer is that an ``xs:dateTime`` element may
carry a plain date (``2024-05-01``), which real clients send and the real service accepts.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

import app.clients

TNS = "http://www.e-boekhouden.nl/soap"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_PATH = Path(app.clients.__file__).parent / "eboekhouden" / "eboekhouden.wsdl"
WSDL_ADDRESS = "http://soap.e-boekhouden.nl/soap.asmx"

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class SoapFault(Exception):
    """Answer with HTTP 500 and a SOAP 1.1 Fault (``faultcode`` soap:Client/soap:Server)."""

    def __init__(self, message: str, code: str = "Client") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@functools.cache
def wsdl_bytes() -> bytes:
    return WSDL_PATH.read_bytes()


def wsdl_for(address: str) -> bytes:
    """The WSDL with both ``soap:address`` locations pointing at ``address``."""
    return wsdl_bytes().replace(WSDL_ADDRESS.encode(), address.encode())


@functools.cache
def schema() -> xmlschema.XMLSchema10:
    root = etree.fromstring(wsdl_bytes(), _PARSER)
    node = root.find(f"{{{WSDL_NS}}}types/{{{XSD}}}schema")
    # tostring() carries the WSDL root's namespace declarations (s:, tns:) along.
    return xmlschema.XMLSchema10(io.BytesIO(etree.tostring(node)))


@functools.cache
def operations() -> frozenset[str]:
    """The 20 operation names of the WSDL's portType."""
    root = etree.fromstring(wsdl_bytes(), _PARSER)
    return frozenset(
        op.get("name") for op in root.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation")
    )


@functools.cache
def _datetime_names() -> frozenset[str]:
    """Local names of elements typed xs:dateTime (and nothing else) in the schema."""
    kinds: dict[str, set[str]] = {}
    for component in schema().iter_components():
        if isinstance(component, xmlschema.XsdElement) and component.type.is_simple():
            kinds.setdefault(component.local_name, set()).add(_primitive(component.type))
    return frozenset(name for name, types in kinds.items() if types == {"dateTime"})


_INTEGERS = frozenset({"long", "int", "integer", "short", "byte", "unsignedLong", "unsignedInt"})
_BUILTINS = _INTEGERS | {"decimal", "double", "float", "boolean", "dateTime", "date", "string"}


def _primitive(xsd_type: Any) -> str:
    """The nearest built-in XSD type name ("long", not its primitive "decimal")."""
    while xsd_type is not None:
        if xsd_type.target_namespace == XSD and xsd_type.local_name in _BUILTINS:
            return "integer" if xsd_type.local_name in _INTEGERS else xsd_type.local_name
        xsd_type = getattr(xsd_type, "base_type", None)
    return "anyType"


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


# -- requests ------------------------------------------------------------------------


def parse_request(body: bytes, soap_action: str | None) -> tuple[str, etree._Element]:
    """The operation name and its request element, or a Client ``SoapFault``."""
    try:
        envelope = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault(
            "Server was unable to read request. ---> There is an error in XML document "
            f"({exc.lineno}, {exc.offset})."
        ) from None
    if envelope.tag == f"{{{SOAP12_ENV}}}Envelope":
        raise SoapFault("SOAP 1.2 is not supported by the simulator.", "VersionMismatch")
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("Possible SOAP version mismatch: Envelope namespace was unexpected.")
    body_el = envelope.find(f"{{{SOAP_ENV}}}Body")
    children = [] if body_el is None else [c for c in body_el if isinstance(c.tag, str)]
    if len(children) != 1:
        raise SoapFault("Server was unable to read request. ---> The SOAP Body is empty.")
    element = children[0]
    from_body = _local(element.tag) if etree.QName(element).namespace == TNS else ""
    action = (soap_action or "").strip().strip('"')
    if action:
        name = action[len(TNS) + 1 :] if action.startswith(TNS + "/") else ""
        if name not in operations():
            raise SoapFault(
                f"Server did not recognize the value of HTTP Header SOAPAction: {action}."
            )
        if name != from_body:
            raise SoapFault(
                "Server was unable to read request. ---> There is an error in XML document. "
                f"---> <{_local(element.tag)} xmlns='{etree.QName(element).namespace}'> "
                "was not expected."
            )
        return name, element
    if from_body not in operations():
        raise SoapFault("Unable to handle request without a valid action parameter.")
    return from_body, element


def validate_request(element: etree._Element) -> None:
    """Raise a Client ``SoapFault`` naming the first schema violation."""
    names = _datetime_names()
    for node in element.iter():
        if _local(node.tag) in names and node.text and _DATE_ONLY.fullmatch(node.text.strip()):
            node.text = node.text.strip() + "T00:00:00"
    for error in schema().iter_errors(element):
        path = re.sub(r"\w+:", "", error.path or "")
        node = error.elem
        value = ""
        if node is not None and len(node) == 0 and (node.text or "").strip():
            value = f", value '{node.text.strip()[:50]}'"
        raise SoapFault(
            "Server was unable to read request. ---> There is an error in XML document. "
            f"---> {error.reason} (at {path}{value})"
        )


def decode(element: etree._Element) -> dict[str, Any]:
    """A validated request element as a dict keyed by local names, values typed by the
    schema (long → int, decimal → Decimal, dateTime → datetime); an ``ArrayOfX``
    becomes a list; missing optional elements are None."""
    return _decode(element, schema().elements[_local(element.tag)])


def _decode(node: etree._Element, decl: Any) -> Any:
    if node.get(f"{{{XSI}}}nil") == "true":
        return None
    xsd_type = decl.type
    if xsd_type.is_simple() or not xsd_type.has_complex_content():
        return _parse_simple(node.text or "", _primitive(xsd_type))
    children: dict[str, list[etree._Element]] = {}
    for child in node:
        children.setdefault(_local(child.tag), []).append(child)
    item = _array_item(xsd_type)
    if item is not None:
        return [_decode(child, item) for child in children.get(item.local_name, [])]
    out: dict[str, Any] = {}
    for child_decl in xsd_type.content.iter_elements():
        found = children.get(child_decl.local_name, [])
        if child_decl.is_multiple():
            out[child_decl.local_name] = [_decode(c, child_decl) for c in found]
        else:
            out[child_decl.local_name] = _decode(found[0], child_decl) if found else None
    return out


def empty_record(type_name: str) -> dict[str, Any]:
    """Every element of complex type ``type_name`` → None (what ``decode`` gives for an
    empty request element), for seeding records the way a request would create them."""
    xsd_type = schema().types[type_name]
    return {decl.local_name: None for decl in xsd_type.content.iter_elements()}


def _parse_simple(text: str, primitive: str) -> Any:
    if primitive == "integer":
        return int(text)
    if primitive == "decimal":
        return Decimal(text.strip())
    if primitive in ("double", "float"):
        return float(text)
    if primitive == "boolean":
        return text.strip() in ("true", "1")
    if primitive == "dateTime":
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return text


def _array_item(xsd_type: Any) -> Any:
    """The item declaration of an ``ArrayOfX`` type (one repeated child), else None."""
    if not xsd_type.name or not xsd_type.local_name.startswith("ArrayOf"):
        return None
    elements = list(xsd_type.content.iter_elements())
    if len(elements) == 1 and elements[0].is_multiple():
        return elements[0]
    return None


# -- responses -----------------------------------------------------------------------


def response_envelope(operation: str, result: dict[str, Any] | None, *, validate: bool) -> bytes:
    """``<{operation}Response>`` with ``<{operation}Result>`` built from ``result`` in
    schema order (None → element omitted; an ``ArrayOfX`` takes a list)."""
    envelope, body = _envelope()
    decl = schema().elements[f"{operation}Response"]
    response = etree.SubElement(body, f"{{{TNS}}}{operation}Response", nsmap={None: TNS})
    if result is not None:
        result_decl = next(iter(decl.type.content.iter_elements()))
        _encode(response, result_decl, result)
    if validate:
        errors = list(schema().iter_errors(response))
        if errors:
            raise AssertionError(f"simulator built an invalid {operation} response: {errors[0]}")
    return _serialize(envelope)


def fault_envelope(message: str, code: str = "Client") -> bytes:
    envelope, body = _envelope()
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = message
    etree.SubElement(fault, "detail")
    return _serialize(envelope)


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(
        f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "xsi": XSI, "xsd": XSD}
    )
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _encode(parent: etree._Element, decl: Any, value: Any) -> None:
    node = etree.SubElement(parent, f"{{{TNS}}}{decl.local_name}")
    xsd_type = decl.type
    if xsd_type.is_simple() or not xsd_type.has_complex_content():
        node.text = _format_simple(value)
        return
    item = _array_item(xsd_type)
    if item is not None:
        for entry in value:
            _encode(node, item, entry)
        return
    declared = {d.local_name: d for d in xsd_type.content.iter_elements()}
    unknown = set(value) - set(declared)
    if unknown:
        raise AssertionError(f"{decl.local_name} has no elements {sorted(unknown)}")
    for name, child_decl in declared.items():
        child = value.get(name)
        if child is None:
            if child_decl.min_occurs:
                raise AssertionError(f"{decl.local_name}.{name} is required")
            continue
        for entry in child if child_decl.is_multiple() else [child]:
            _encode(node, child_decl, entry)


def _format_simple(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
