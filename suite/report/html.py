"""`python -m suite.report --html [--out DIR]`: the writeups in submission/ as static HTML pages.

Every `.md` under the submission folder becomes a page at the same relative path (the index
`README.md` becomes `index.html`, `TaskNN_<Name>.md` becomes `TaskNN_<Name>.html`), rendered
by markdown-it-py (CommonMark with tables; Keras already installs it, through rich). Links
to `.md` files point to their pages (anchors kept); the local files a page shows or links
(its figures) are copied beside it, so the folder stands on its own. A page that shows a
missing image is an error; links that leave the submission folder are kept as written.
"""

import os
import shutil
from html import escape
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

from suite import SuiteError
from suite.study.results import write_atomic

STYLE = ("body{max-width:75rem;margin:2rem auto;padding:0 1rem;font:15px/1.5 system-ui,sans-serif;color:#222}"
         "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;"
         "vertical-align:top}th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3;padding:0 .2rem}"
         "pre{background:#f3f3f3;padding:.6rem;overflow:auto}nav{margin-bottom:1rem}")
PAGE = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><style>{style}</style></head>\n'
        '<body>{nav}\n{body}</body></html>\n')


def page_path(md):
    """The page of a markdown file, as a relative path: README.md -> index.html, X.md -> X.html."""
    md = PurePosixPath(md)
    return md.with_name("index.html") if md.name == "README.md" else md.with_suffix(".html")


def _local(url):
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith(("/", "#"))) and bool(parts.path)


def _inside(path, root):
    return os.path.normpath(path).startswith(os.path.normpath(root) + os.sep)


class _Page:
    """One markdown file rendered: its HTML and the local files it needs copied."""

    def __init__(self, parser, source, submission):
        self.source, self.submission, self.assets = source, submission, []
        tokens = parser.parse(source.read_text())
        for token in (child for t in tokens for child in (t.children or [])):
            if token.type == "image":
                token.attrSet("src", self._asset(token.attrGet("src"), required=True))
            elif token.type == "link_open":
                token.attrSet("href", self._link(token.attrGet("href")))
        heading = next((tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"), None)
        self.title = heading or source.stem
        self.body = parser.renderer.render(tokens, parser.options, {})

    def _asset(self, url, required=False):
        if not _local(url):
            return url
        target = self.source.parent / unquote(urlsplit(url).path)
        if not _inside(target, self.submission):
            return url
        if target.is_file():
            self.assets.append(target)
        elif required:
            raise SuiteError(f"{self.source} shows {url}, which does not exist; rebuild that writeup")
        return url

    def _link(self, url):
        parts = urlsplit(url)
        if _local(url) and parts.path.endswith(".md"):
            return str(page_path(parts.path)) + (f"#{parts.fragment}" if parts.fragment else "")
        return self._asset(url)


def write(submission_dir, out_dir):
    """Render every `.md` under `submission_dir` into `out_dir`; returns the index page's path."""
    submission, out = Path(submission_dir).resolve(), Path(out_dir).resolve()
    sources = sorted(p for p in submission.rglob("*.md") if not _inside(p, out))
    if not (submission / "README.md").is_file():
        raise SuiteError(f"no {submission_dir}/README.md index: build it with `python -m suite.report index`")
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    for source in sources:
        page = _Page(parser, source, submission)
        relative = page_path(source.relative_to(submission).as_posix())
        index = os.path.relpath(out / "index.html", (out / relative).parent)
        nav = "" if relative.name == "index.html" else f'<nav><a href="{index}">All studies</a></nav>'
        write_atomic(out / relative, PAGE.format(title=escape(page.title), style=STYLE, nav=nav, body=page.body))
        for asset in page.assets:
            copy = out / asset.relative_to(submission)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(asset, copy)
    return out / "index.html"
