"""The RQ dashboard without 'unsafe-eval': its underscore.js templates, compiled here.

rq-dashboard keeps its row templates in ``<script type="text/template">`` elements and
compiles them in the browser with ``_.template``, which builds a function from text
(``new Function``): a CSP that allows that allows any injected string to run as code.
Instead, as each dashboard page is sent, every template on it is compiled here, exactly
as underscore 1.13 compiles it, into an inline script (allowed by its hash, like the
page's own) that replaces ``_.template`` with a look-up of those compiled functions. The
templates come from the page itself, never from job data (which arrives later as JSON,
escaped: app/web/admin.py). A template that is not on the page is not compiled at all.
"""

from __future__ import annotations

import json
import re

TEMPLATE_SCRIPT = re.compile(
    r"<script\b[^>]*\btype=\"text/template\"[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE
)
UNDERSCORE_TAG = re.compile(r"<script\b[^>]*underscore[^>]*></script>", re.IGNORECASE)
# underscore's templateSettings: escape <%- %>, interpolate <%= %>, evaluate <% %>, then
# the end of the text (JavaScript's "$" without the m flag: \Z here).
_MATCHER = re.compile(r"<%-([\s\S]+?)%>|<%=([\s\S]+?)%>|<%([\s\S]+?)%>|\Z")
_ESCAPES = {"'": "'", "\\": "\\", "\r": "r", "\n": "n", "\u2028": "u2028", "\u2029": "u2029"}
_ESCAPE = re.compile("\\\\|'|\r|\n|\u2028|\u2029")
_UNSAFE_IN_SCRIPT = re.compile(r"<!--|</?script", re.IGNORECASE)


def _literal(text: str) -> str:
    """Template text as the inside of a single-quoted JavaScript string (underscore's
    escapes, and ``<`` as ``\\x3c`` so nothing in it can close or open a script)."""
    return _ESCAPE.sub(lambda m: "\\" + _ESCAPES[m.group()], text).replace("<", "\\x3c")


def compile_template(text: str) -> str:
    """The JavaScript function ``(obj, _) => string`` underscore's ``_.template(text)``
    would build (its ``render``), as source."""
    source, index = "__p+='", 0
    for match in _MATCHER.finditer(text):
        source += _literal(text[index : match.start()])
        index = match.end()
        escape, interpolate, evaluate = match.groups()
        if escape:
            source += "'+\n((__t=(" + escape + "))==null?'':_.escape(__t))+\n'"
        elif interpolate:
            source += "'+\n((__t=(" + interpolate + "))==null?'':__t)+\n'"
        elif evaluate:
            source += "';\n" + evaluate + "\n__p+='"
        if match.end() == len(text):
            break
    source += "';\n"
    source = "with(obj||{}){\n" + source + "}\n"
    source = (
        "var __t,__p='',__j=Array.prototype.join,"
        "print=function(){__p+=__j.call(arguments,'');};\n" + source + "return __p;\n"
    )
    return "function(obj,_){\n" + source + "}"


def _key(text: str) -> str:
    """A JSON string literal safe inside a script element."""
    return (
        json.dumps(text)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def precompiled_script(html: str) -> str | None:
    """The inline script that serves this page's templates precompiled, or None when the
    page has none (or one whose code could break out of a script element)."""
    # The browser reads a script element's text with its line breaks normalised.
    templates = {
        body.replace("\r\n", "\n").replace("\r", "\n") for body in TEMPLATE_SCRIPT.findall(html)
    }
    if not templates:
        return None
    entries = ",\n".join(f"{_key(text)}: {compile_template(text)}" for text in sorted(templates))
    script = (
        "(function(){var compiled={\n" + entries + "\n};\n"
        "_.template=function(text){var render=compiled[text];"
        'if(!render){throw new Error("template not precompiled");}'
        "return function(data){return render.call(this,data,_);};};})();"
    )
    return None if _UNSAFE_IN_SCRIPT.search(script) else script


def with_precompiled_templates(html: str) -> str:
    """``html`` with the precompiled templates' script right after underscore's."""
    script = precompiled_script(html)
    found = UNDERSCORE_TAG.search(html)
    if script is None or found is None:
        return html
    tag = f'<script type="text/javascript">{script}</script>'
    return html[: found.end()] + tag + html[found.end() :]
