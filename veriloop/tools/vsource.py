"""Reading Verilog structure with a real parser (pyslang): units, instances, names, system calls, directives.

Everything in veriloop that needs to know what a piece of Verilog defines or refers to asks here,
never a regular expression over raw text, so comments, strings and macros cannot change an answer:

    src = read(text)                 # preprocess (with Icarus's `__ICARUS__` defined) and parse
    src.units                        # [Unit(name="TopModule", kind="module", ...)]
    src.compiled_text                # the text a compiler should get: macros expanded, directives gone

`compiled_text` is what pyslang parsed, printed back with macros expanded and `ifdef branches
resolved; only `timescale survives (it cannot hide or redefine anything). Handing a compiler this
text, rather than the original, means that what was checked is exactly what runs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

UnitKind = Literal[
    "module", "macromodule", "primitive", "interface", "program", "package", "class", "config", "checker"
]

ICARUS_DEFINES = ("__ICARUS__=1",)
"""Macros Icarus Verilog predefines; a design is read as Icarus would see it."""

_FORMAT_M = re.compile(r"%[-+ 0#]*\d*[mM]")


class Unit(BaseModel):
    """A design unit defined at the top of a file (module, primitive, package, class...)."""

    name: str
    kind: UnitKind
    line: int
    ports: dict[str, str] = Field(default_factory=dict)
    """ANSI port name -> direction (input/output/inout/ref), for modules that declare them in the header."""
    header: str = ""
    """The header as written (`module name #(...) (...);`, comments inside kept), macros expanded."""


class NameRef(BaseModel):
    """A dotted (`a.b`) or scoped (`p::x`) name as written, with the unit it appears in."""

    text: str
    head: str
    separator: Literal[".", "::"]
    unit: str
    """Enclosing unit ('' at compilation-unit level)."""
    local: bool
    """The head is declared inside the enclosing unit (instance, block, variable, port, type...)."""
    line: int


class Directive(BaseModel):
    kind: str
    """include, define, ifdef, timescale, default_nettype, ... (the directive's keyword without `)."""
    line: int


class VerilogSource(BaseModel):
    """What one Verilog text defines, instantiates, names and calls, as a parser reads it."""

    units: list[Unit] = Field(default_factory=list)
    instantiated: list[str] = Field(default_factory=list)
    """Types of module/interface/program/primitive instances, in order of appearance (unique)."""
    instance_names: list[str] = Field(default_factory=list)
    positional: list[str] = Field(default_factory=list)
    """Types instantiated with ports connected by position (not by name)."""
    names: list[NameRef] = Field(default_factory=list)
    system_calls: list[str] = Field(default_factory=list)
    """Every `$name` used (tasks and functions), unique, in order of first use."""
    scope_formats: list[int] = Field(default_factory=list)
    """Lines of string literals holding a %m (scope name) format."""
    dynamic_formats: list[int] = Field(default_factory=list)
    """Lines of $sformat/$sformatf calls whose format is not a string literal."""
    binds: list[int] = Field(default_factory=list)
    imports: list[str] = Field(default_factory=list)
    """Packages named in `import`/`export` items."""
    resolution: list[str] = Field(default_factory=list)
    """Keywords that change how drivers resolve or join nets (strengths, supply/wired nets,
    switches, pullup/pulldown, alias), as `keyword (line N)`."""
    input_drives: list[str] = Field(default_factory=list)
    """Places where a unit drives one of its own input ports (an assign, a gate output, a child's
    output port), as `unit.port (line N)`: the net is shared with whoever drives the input."""
    overrides: list[int] = Field(default_factory=list)
    """Lines of procedural `force`/`release`/`assign`/`deassign` statements."""
    directives: list[Directive] = Field(default_factory=list)
    unit_level_names: list[str] = Field(default_factory=list)
    """Names declared at compilation-unit level, outside any unit (`$unit` members)."""
    identifiers: list[str] = Field(default_factory=list)
    """Every identifier token (unique)."""
    errors: list[str] = Field(default_factory=list)
    """Preprocessor and parser errors, formatted `file:line:col: error: message`."""
    unterminated_conditional: bool = False
    compiled_text: str = ""

    @property
    def unit_names(self) -> list[str]:
        return [u.name for u in self.units]

    def unit(self, name: str) -> Unit | None:
        return next((u for u in self.units if u.name == name), None)


def _sk() -> Any:
    from pyslang import syntax

    return syntax.SyntaxKind


_UNIT_KINDS: dict[str, UnitKind] = {
    "ModuleDeclaration": "module",
    "InterfaceDeclaration": "interface",
    "ProgramDeclaration": "program",
    "PackageDeclaration": "package",
    "ClassDeclaration": "class",
    "UdpDeclaration": "primitive",
    "ConfigDeclaration": "config",
    "CheckerDeclaration": "checker",
}
# Nodes whose `name` token declares something in the enclosing scope.
_DECL_NAME_KINDS = {
    "Declarator", "InstanceName", "NamedBlockClause", "NamedLabel", "ExplicitAnsiPort", "PortReference",
    "TypedefDeclaration", "ForwardTypedefDeclaration", "ClassDeclaration", "TypeAssignment",
    "CovergroupDeclaration", "PropertyDeclaration", "SequenceDeclaration", "CheckerDeclaration",
    "NetTypeDeclaration", "ModportItem", "ModuleHeader", "UdpOutputPortDecl",
}
_DIRECTIVE_NAMES = {
    "IncludeDirective": "include", "DefineDirective": "define", "UndefDirective": "undef",
    "UndefineAllDirective": "undefineall", "IfDefDirective": "ifdef", "IfNDefDirective": "ifndef",
    "ElsIfDirective": "elsif", "ElseDirective": "else", "EndIfDirective": "endif",
    "TimeScaleDirective": "timescale", "DefaultNetTypeDirective": "default_nettype",
    "ResetAllDirective": "resetall", "CellDefineDirective": "celldefine",
    "EndCellDefineDirective": "endcelldefine", "LineDirective": "line", "PragmaDirective": "pragma",
    "UnconnectedDriveDirective": "unconnected_drive", "NoUnconnectedDriveDirective": "nounconnected_drive",
    "BeginKeywordsDirective": "begin_keywords", "EndKeywordsDirective": "end_keywords",
    "MacroUsage": "macro", "ProtectDirective": "protect", "ProtectedDirective": "protected",
}


def _token_text(node: Any) -> str:
    """The identifier a name node (or token) stands for: its last token's text."""
    from pyslang import parsing

    if node is None:
        return ""
    if isinstance(node, parsing.Token):
        return str(node.valueText)
    tok = node.getLastToken()
    return str(tok.valueText) if tok is not None else ""


def _kind_name(node: Any) -> str:
    return str(node.kind).rsplit(".", 1)[-1]


def _enclosing_unit(node: Any) -> Any:
    p = node.parent
    while p is not None:
        if _kind_name(p) in _UNIT_KINDS:
            return p
        p = p.parent
    return None


def _unit_name(unit: Any) -> str:
    if unit is None:
        return ""
    header = getattr(unit, "header", None)
    if header is not None:
        return _token_text(header.name)
    return _token_text(getattr(unit, "name", None))


def _unit_kind(unit: Any) -> UnitKind:
    from pyslang import parsing

    kind = _UNIT_KINDS[_kind_name(unit)]
    header = getattr(unit, "header", None)
    if kind == "module" and header is not None:
        kw = getattr(header, "moduleKeyword", None)
        if kw is not None and kw.kind == parsing.TokenKind.MacromoduleKeyword:
            return "macromodule"
    return kind


def _body_ports(unit: Any, out: dict[str, str]) -> dict[str, str]:
    """Non-ANSI `input a;` declarations in the unit's own body, added to `out`."""
    for member in getattr(unit, "members", None) or []:
        if _kind_name(member) != "PortDeclaration":
            continue
        tok = getattr(member.header, "direction", None)
        direction = str(tok.valueText) if tok is not None and tok.valueText else "inout"
        for decl in member.declarators:
            if _is_token(decl):
                continue
            out[_token_text(decl.name)] = direction
    return out


def _ansi_ports(unit: Any) -> dict[str, str]:
    header = getattr(unit, "header", None)
    plist = getattr(header, "ports", None) if header is not None else None
    out: dict[str, str] = {}
    if plist is None or _kind_name(plist) != "AnsiPortList":
        return out
    direction = ""
    for port in plist.ports:
        if _kind_name(port) == "ImplicitAnsiPort":
            head = port.header
            tok = getattr(head, "direction", None)
            if tok is not None and tok.valueText:
                direction = str(tok.valueText)
            out[_token_text(port.declarator.name)] = direction or "inout"
        elif _kind_name(port) == "ExplicitAnsiPort":
            tok = port.direction
            if tok is not None and tok.valueText:
                direction = str(tok.valueText)
            out[_token_text(port.name)] = direction
    return out


def _header_text(unit: Any) -> str:
    header = getattr(unit, "header", None)
    return str(header).strip() if header is not None else ""


def _leftmost(node: Any) -> Any:
    while _kind_name(node) == "ScopedName":
        node = node.left
    return node


def _line(sm: Any, node: Any) -> int:
    from pyslang import parsing

    tok = node if isinstance(node, parsing.Token) else node.getFirstToken()
    if tok is None:
        return 0
    loc = sm.getFullyOriginalLoc(tok.location)
    return int(sm.getLineNumber(loc))


def read(text: str, name: str = "design.sv", defines: tuple[str, ...] = ICARUS_DEFINES) -> VerilogSource:
    """Preprocess and parse `text` as one file (no include paths); summarise its structure."""
    return _read_cached(text, name, defines).model_copy(deep=True)


@lru_cache(maxsize=1024)
def _read_cached(text: str, name: str, defines: tuple[str, ...]) -> VerilogSource:
    import pyslang
    from pyslang import parsing, syntax

    sm = pyslang.SourceManager()
    opts = parsing.PreprocessorOptions()
    opts.predefines = list(defines)
    opts.maxIncludeDepth = 0  # an `include is recorded (and refused by callers), never opened
    # Parsed as a whole file (a compilation unit), so directives after the last token are seen too.
    tree = syntax.SyntaxTree.fromFileInMemory(text, sm, name, "", pyslang.Bag([opts]))
    out = VerilogSource()
    engine = pyslang.DiagnosticEngine(sm)
    for diag in tree.diagnostics:
        code = str(diag.code)
        if "MissingEndIfDirective" in code:
            out.unterminated_conditional = True
        if diag.isError():
            loc = sm.getFullyOriginalLoc(diag.location)
            where = f"{name}:{sm.getLineNumber(loc)}:{sm.getColumnNumber(loc)}"
            out.errors.append(f"{where}: error: {engine.formatMessage(diag)}")

    idents: dict[str, None] = {}
    calls: dict[str, None] = {}
    inst_types: dict[str, None] = {}
    inst_names: dict[str, None] = {}
    declared: dict[int, set[str]] = {}  # id(unit node) -> names declared in it
    unit_nodes: dict[int, Any] = {}
    scoped: list[Any] = []
    drivers: list[Any] = []
    unit_level: dict[str, None] = {}
    directive_kind = parsing.TriviaKind.Directive
    ident_kind = parsing.TokenKind.Identifier
    sysid_kind = parsing.TokenKind.SystemIdentifier
    string_kind = parsing.TokenKind.StringLiteral
    keep: list[Any] = []  # keep node wrappers alive while their ids are used as keys

    def visit(node: Any) -> None:
        if isinstance(node, parsing.Token):
            for tr in node.trivia:
                if tr.kind == directive_kind:
                    syn = tr.syntax()
                    kind = _kind_name(syn) if syn is not None else "Directive"
                    line = _line(sm, syn) if syn is not None else 0
                    out.directives.append(Directive(kind=_DIRECTIVE_NAMES.get(kind, kind), line=line))
            tk = str(node.kind).rsplit(".", 1)[-1]
            if tk in _RESOLUTION_KEYWORDS or tk.startswith(("RTran", "Rtran", "Rcmos", "Rnmos", "Rpmos")):
                out.resolution.append(f"{node.valueText} (line {_line(sm, node)})")
            if node.kind == ident_kind:
                idents[str(node.valueText)] = None
            elif node.kind == sysid_kind:
                calls[str(node.valueText)] = None
            elif node.kind == string_kind:
                value = str(node.valueText).replace("%%", "")
                if _FORMAT_M.search(value):
                    out.scope_formats.append(_line(sm, node))
            return
        kind = _kind_name(node)
        if kind in _UNIT_KINDS:
            keep.append(node)
            unit_nodes[id(node)] = node
            parent_unit = _enclosing_unit(node)
            if parent_unit is None:
                out.units.append(
                    Unit(name=_unit_name(node), kind=_unit_kind(node), line=_line(sm, node),
                         ports=_body_ports(node, _ansi_ports(node)), header=_header_text(node))
                )
        if kind == "HierarchyInstantiation":
            inst_types[_token_text(node.type)] = None
            for inst in node.instances:
                conns = [] if _is_token(inst) else [c for c in inst.connections if not _is_token(c)]
                if any(_kind_name(c) == "OrderedPortConnection" for c in conns):
                    out.positional.append(_token_text(node.type))
        elif kind == "InstanceName":
            inst_names[_token_text(node.name)] = None
        elif kind == "BindDirective":
            out.binds.append(_line(sm, node))
        elif kind == "PackageImportItem":
            out.imports.append(_token_text(node.package))
        if kind in ("ContinuousAssign", "PrimitiveInstantiation", "HierarchyInstantiation"):
            keep.append(node)
            drivers.append(node)
        elif kind.startswith("Procedural") and kind.endswith("Statement"):
            out.overrides.append(_line(sm, node))
        elif kind == "ScopedName" and (node.parent is None or _kind_name(node.parent) != "ScopedName"):
            keep.append(node)
            scoped.append(node)
        elif kind == "InvocationExpression":
            _check_format(node)
        decl: list[str] = []
        if kind in _DECL_NAME_KINDS:
            decl.append(_token_text(getattr(node, "name", None)))
        elif kind == "FunctionPrototype":
            decl.append(_token_text(node.name))
        elif kind == "GenvarDeclaration":
            decl.extend(_token_text(i) for i in node.identifiers)
        elif kind == "ClockingDeclaration":
            decl.append(_token_text(getattr(node, "blockName", None)))
        if decl:
            unit = _enclosing_unit(node)
            if unit is None:
                unit_level.update(dict.fromkeys(d for d in decl if d))
            else:
                keep.append(unit)
                unit_nodes[id(unit)] = unit
                declared.setdefault(id(unit), set()).update(d for d in decl if d)

    def _check_format(node: Any) -> None:
        left = node.left
        if _kind_name(left) != "SystemName":
            return
        fname = _token_text(left)
        index = {"$sformatf": 0, "$sformat": 1}.get(fname)
        args = getattr(node, "arguments", None)
        if index is None:
            return
        params = list(args.parameters) if args is not None else []
        params = [p for p in params if _kind_name(p) != "Comma" and not _is_token(p)]
        first = params[index] if len(params) > index else None
        expr = getattr(first, "expr", None) if first is not None else None
        if expr is None or _kind_name(expr) != "StringLiteralExpression":
            out.dynamic_formats.append(_line(sm, node))

    tree.root.visit(visit)
    for node in scoped:
        head = _leftmost(node)
        head_kind = _kind_name(head)
        head_text = {"RootScope": "$root", "UnitScope": "$unit"}.get(head_kind) or _token_text(
            getattr(head, "identifier", None) or head
        )
        unit = _enclosing_unit(node)
        local = unit is not None and head_text in declared.get(id(unit), set())
        sep = _token_text(node.separator)
        out.names.append(
            NameRef(
                text=str(node).strip(),
                head=head_text,
                separator="::" if sep == "::" else ".",
                unit=_unit_name(unit),
                local=local,
                line=_line(sm, node),
            )
        )
    out.input_drives = _input_drives(sm, drivers, {u.name: u for u in out.units})
    out.system_calls = list(calls)
    out.instantiated = [t for t in inst_types if t]
    out.instance_names = [n for n in inst_names if n]
    out.identifiers = list(idents)
    out.unit_level_names = [n for n in unit_level if n]
    out.compiled_text = _compiled_text(text, tree, sm, out)
    return out


_RESOLUTION_KEYWORDS = {
    "Supply0Keyword", "Supply1Keyword", "Tri0Keyword", "Tri1Keyword", "TriAndKeyword", "TriOrKeyword",
    "TriRegKeyword", "WAndKeyword", "WOrKeyword", "Strong0Keyword", "Strong1Keyword", "Pull0Keyword",
    "Pull1Keyword", "Weak0Keyword", "Weak1Keyword", "HighZ0Keyword", "HighZ1Keyword", "SmallKeyword",
    "MediumKeyword", "LargeKeyword", "TranKeyword", "TranIf0Keyword", "TranIf1Keyword", "PullUpKeyword",
    "PullDownKeyword", "AliasKeyword", "CmosKeyword", "NmosKeyword", "PmosKeyword",
}
# Gate primitives whose every terminal but the last is an output (the others: the first only).
_MULTI_OUTPUT_GATES = {"buf", "not"}


def _names_in(node: Any) -> list[str]:
    """Identifiers an expression names as a whole (not those inside its index selects)."""
    found: list[str] = []

    def walk(n: Any) -> None:
        if n is None or _is_token(n):
            return
        kind = _kind_name(n)
        if kind in ("IdentifierName", "IdentifierSelectName"):
            found.append(_token_text(n.identifier))
            return
        if kind == "ScopedName":
            walk(_leftmost(n))
            return
        if kind in ("ElementSelect", "BitSelect", "SimpleRangeSelect", "AscendingRangeSelect",
                    "DescendingRangeSelect"):
            return
        for child in _children(n):
            walk(child)

    walk(node)
    return found


def _children(node: Any) -> list[Any]:
    out: list[Any] = []
    for name in dir(node):
        if name.startswith("_") or name in ("parent", "kind"):
            continue
        value = getattr(node, name, None)
        if value is None or callable(value) or _is_token(value):
            continue
        if hasattr(value, "kind") and hasattr(value, "visit"):
            out.append(value)
        elif isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and hasattr(value, "__len__")):
            try:
                out.extend(v for v in value if hasattr(v, "visit") and not _is_token(v))
            except TypeError:
                continue
    return out


def _input_drives(sm: Any, drivers: list[Any], units: dict[str, Unit]) -> list[str]:
    """Where a unit drives its own input ports: assign left-hand sides, gate outputs, and child ports
    that are outputs (or inouts) connected to them."""
    found: list[str] = []
    for node in drivers:
        owner = _enclosing_unit(node)
        unit = units.get(_unit_name(owner)) if owner is not None else None
        if unit is None:
            continue
        inputs = {p for p, d in unit.ports.items() if d == "input"}
        if not inputs:
            continue
        driven: list[str] = []
        kind = _kind_name(node)
        if kind == "ContinuousAssign":
            for assignment in node.assignments:
                if not _is_token(assignment):
                    driven += _names_in(getattr(assignment, "left", None))
        elif kind == "PrimitiveInstantiation":
            multi = str(node.type.valueText) in _MULTI_OUTPUT_GATES
            for inst in node.instances:
                if _is_token(inst):
                    continue
                terms = [c for c in inst.connections if not _is_token(c)]
                outs = terms[:-1] if multi else terms[:1]
                for term in outs:
                    driven += _names_in(getattr(term, "expr", None))
        else:
            child = units.get(_token_text(node.type))
            child_ports = list(child.ports.items()) if child is not None else []
            for inst in node.instances:
                if _is_token(inst):
                    continue
                conns = [c for c in inst.connections if not _is_token(c)]
                for pos, conn in enumerate(conns):
                    ckind = _kind_name(conn)
                    if ckind == "WildcardPortConnection":
                        driven += [p for p, d in child_ports if d != "input"]
                        continue
                    if child is None:
                        continue
                    if child.kind == "primitive":
                        direction = "output" if pos == 0 else "input"
                    elif ckind == "NamedPortConnection":
                        direction = child.ports.get(_token_text(conn.name), "input")
                    else:
                        direction = child_ports[pos][1] if pos < len(child_ports) else "input"
                    if direction != "input":
                        driven += _names_in(getattr(conn, "expr", None))
        for name in dict.fromkeys(driven):
            if name in inputs:
                found.append(f"{unit.name}.{name} (line {_line(sm, node)})")
    return found


def _is_token(obj: Any) -> bool:
    from pyslang import parsing

    return isinstance(obj, parsing.Token)


def _compiled_text(text: str, tree: Any, sm: Any, src: VerilogSource) -> str:
    """The original text when it has no directives or macros; else the expanded, directive-free print."""
    if not src.directives:
        return text
    from pyslang import syntax

    printer = syntax.SyntaxPrinter(sm)
    printer.setExpandMacros(True)
    printer.setIncludeDirectives(False)
    printer.setIncludeSkipped(False)
    printer.setIncludeComments(True)
    printer.print(tree)
    body = str(printer.str())
    scale = _first_timescale(tree)
    return (scale + "\n" + body) if scale else body


def _first_timescale(tree: Any) -> str:
    from pyslang import parsing

    found: list[str] = []

    def visit(node: Any) -> None:
        if found or not isinstance(node, parsing.Token):
            return
        for tr in node.trivia:
            syn = tr.syntax() if tr.kind == parsing.TriviaKind.Directive else None
            if syn is not None and _kind_name(syn) == "TimeScaleDirective":
                found.append(str(syn).strip())
                return

    tree.root.visit(visit)
    return found[0] if found else ""


def rename_unit(text: str, old: str, new: str) -> str:
    """`text` with the declaration of unit `old` renamed to `new` (only the name token of its header)."""
    import pyslang
    from pyslang import syntax

    sm = pyslang.SourceManager()
    tree = syntax.SyntaxTree.fromFileInMemory(text, sm, "source.sv")
    spans: list[tuple[int, int]] = []

    def visit(node: Any) -> None:
        if _is_token(node) or _kind_name(node) != "ModuleHeader":
            return
        tok = node.name
        if str(tok.valueText) == old and sm.isFileLoc(tok.location):
            start = tok.location.offset
            spans.append((start, start + len(str(tok.rawText))))

    tree.root.visit(visit)
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text
