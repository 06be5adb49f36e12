"""The built-in design library: parameterisable RTL blocks with self-checking testbenches."""

from veriloop.designlib.library import get_entry, load_library
from veriloop.designlib.match import beyond_scope, explain_no_match, match_spec
from veriloop.designlib.models import DesignEntry, DesignMatch, ParamSpec, PortSpec, RenderedDesign
from veriloop.designlib.render import render, resolve_params
from veriloop.designlib.verify import DesignCheck, check_rendered

__all__ = [
    "DesignCheck",
    "DesignEntry",
    "DesignMatch",
    "ParamSpec",
    "PortSpec",
    "RenderedDesign",
    "beyond_scope",
    "check_rendered",
    "explain_no_match",
    "get_entry",
    "load_library",
    "match_spec",
    "render",
    "resolve_params",
]
