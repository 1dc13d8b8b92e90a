"""An import-linter contract type of our own: modules that may import only what is listed.

The built-in ``forbidden`` contract lists what may *not* be imported, so anything new
(``import smtplib`` in the booking core, say) passes until somebody adds it to the list.
An allow-list turns that around: the booking core names the standard-library modules and
packages it may use, and any other import breaks the contract. pyproject.toml registers it
(``contract_types``) and uses it for ``app.core``; ``make lint`` runs it, and
tests/test_architecture.py shows that it breaks.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class AllowListContract(Contract):
    """``source_modules`` (packages, with everything in them) import nothing but
    ``allowed_modules`` (each with its submodules) and themselves."""

    type_name = "allowlist"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]  # type: ignore[attr-defined]
        allowed = [str(a) for a in self.allowed_modules] + sources  # type: ignore[attr-defined]

        def permitted(name: str) -> bool:
            return any(name == a or name.startswith(a + ".") for a in allowed)

        found: list[tuple[str, str, list[int]]] = []
        for source in sources:
            for module in sorted(graph.find_descendants(source) | {source}):
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    if permitted(imported):
                        continue
                    details = graph.get_import_details(importer=module, imported=imported)
                    found.append((module, imported, [d["line_number"] for d in details]))
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, imported, lines in check.metadata["found"]:
            where = ", ".join(f"l.{n}" for n in lines)
            output.print_error(f"{module} -> {imported} ({where}): not in allowed_modules")
            output.new_line()
