"""Rendering the Jinja2 templates (codegen/templates) into build/gen, byte-identical on every run.

Files are rewritten only when their content changes, so make rules that
depend on a single header do not rebuild needlessly.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).with_name("templates")

# template name -> output path relative to the output directory
OUTPUTS = {
    "xen.h.j2": "include/abi/xen.h",
    "consts.h.j2": "include/abi/consts.h",
    "elfnote.h.j2": "include/abi/elfnote.h",
    "structs.h.j2": "include/abi/structs.h",
    "rings.h.j2": "include/abi/rings.h",
    "helpers.h.j2": "include/abi/helpers.h",
    "hypercalls.h.j2": "include/abi/hypercalls.h",
    "xen_abi.py.j2": "python/xen_abi.py",
}


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    env.filters["hexrepr"] = lambda v: f"{v:#x}" if isinstance(v, int) and v >= 0x100 else repr(v)
    return env


def write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.read_text() == text:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def render_all(ctx: dict[str, object], out_dir: Path) -> list[Path]:
    env = _env()
    written: list[Path] = []
    for template, rel in OUTPUTS.items():
        text = env.get_template(template).render(**ctx, output=rel)
        path = out_dir / rel
        write_if_changed(path, text)
        written.append(path)
    return written
