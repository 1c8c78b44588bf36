"""Rendering report sections as Markdown (GitHub, terminals) and as one self-contained HTML page.

A report body is a list of ``(title, blocks)`` sections; a block is a paragraph
``("p", text)``, a code line ``("code", text)``, an image ``("img", file name, alt text)`` or a
table ``("table", header, rows, numeric columns, bold rows)``, as
:mod:`tsrnn.report.backtest_report` builds them. The HTML
embeds the images (base64 PNG), escapes all text and loads nothing from outside; tables scroll
sideways on narrow screens.
"""

from __future__ import annotations

import base64
import html
import re


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(title: str, lead: list[str], command: str | None, body: list) -> str:
    """The report as GitHub Markdown: pipe tables, images as ``plots/<file>`` links."""
    out = [f"# {title}", "", *lead, ""]
    if command:
        out += ["```", command, "```", ""]
    for heading, blocks in body:
        out += [f"## {heading}", ""]
        for block in blocks:
            kind = block[0]
            if kind == "p":
                out += [block[1], ""]
            elif kind == "code":
                out += ["```", block[1], "```", ""]
            elif kind == "img":
                out += [f"![{_md_cell(block[2])}](plots/{block[1]})", ""]
            else:
                _, header, rows, numeric, bold = block
                out.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
                out.append(
                    "|"
                    + "|".join("---:" if i in numeric else "---" for i in range(len(header)))
                    + "|"
                )
                for r, row in enumerate(rows):
                    cells = [_md_cell(c) for c in row]
                    if r == bold:
                        cells = [f"**{c}**" if c else c for c in cells]
                    out.append("| " + " | ".join(cells) + " |")
                out.append("")
    return "\n".join(out)


_CSS = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
background:#fff}
main{max-width:62rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
nav a{margin-right:.75rem;white-space:nowrap}
.scroll{overflow-x:auto;margin:.75rem 0}
table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n,th.n{text-align:right;white-space:nowrap}tr.best td{font-weight:700;background:#eef6ee}
img{display:block;width:100%;max-width:880px;height:auto;margin:.75rem 0}
pre{background:#f6f8fa;padding:.6rem;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}
@media (max-width:600px){body{font-size:15px}main{padding:.6rem}th,td{padding:.25rem .4rem}}
"""


def html_page(title: str, lead: list[str], command: str | None, body: list, images: dict) -> str:
    """The report as one HTML page; ``images`` maps file names to PNG bytes (embedded)."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # no favicon request: the file stands alone
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(title)}</h1>",
        *(f"<p>{e(line)}</p>" for line in lead),
    ]
    if command:
        out.append(f"<pre><code>{e(command)}</code></pre>")
    links = " ".join(f'<a href="#{_slug(h)}">{e(h)}</a>' for h, _ in body)
    out.append(f"<nav>{links}</nav>")
    for heading, blocks in body:
        out.append(f'<section id="{_slug(heading)}"><h2>{e(heading)}</h2>')
        for block in blocks:
            kind = block[0]
            if kind == "p":
                out.append(f"<p>{e(block[1])}</p>")
            elif kind == "code":
                out.append(f"<pre><code>{e(block[1])}</code></pre>")
            elif kind == "img":
                data = base64.b64encode(images[block[1]]).decode("ascii")
                out.append(f'<img src="data:image/png;base64,{data}" alt="{e(block[2])}">')
            else:
                _, header, rows, numeric, bold = block
                cls = [' class="n"' if i in numeric else "" for i in range(len(header))]
                head = "".join(f"<th{c}>{e(h)}</th>" for c, h in zip(cls, header, strict=True))
                lines = []
                for r, row in enumerate(rows):
                    tr = '<tr class="best">' if r == bold else "<tr>"
                    cells = "".join(f"<td{c}>{e(v)}</td>" for c, v in zip(cls, row, strict=True))
                    lines.append(f"{tr}{cells}</tr>")
                out.append(
                    f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                    f"<tbody>{''.join(lines)}</tbody></table></div>"
                )
        out.append("</section>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
