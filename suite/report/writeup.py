"""The markdown writeup builder (DESIGN.md section 7).

Tasks hand it tables (pandas DataFrames), figures (matplotlib) and sentences computed from
their results; it owns the layout: Question, Setup, Results, Findings, Seed claims,
Limitations. Writeups and figures are written atomically when `render` is called.
"""

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from suite.study.results import write_atomic  # noqa: E402

VERDICTS = ("agrees", "disagrees", "inconclusive")


class Writeup:
    """One study's analysis, rendered to `<out_dir>/<report>` with figures in `<out_dir>/figures/`.

    Args:
        task: task id, e.g. `"task07"`.
        report: file name of the writeup, e.g. `"Task07_Optimizers.md"`.
        title: the study's title.
        question: the question the study answers.
        header: a line saying how the writeup was produced (command, date).

    Example:
        >>> w = Writeup("task07", "Task07_Optimizers.md", "Optimizers", "Which is fastest?")
        >>> w.finding("Adam reached 97% first.")
        >>> w.render("submission")  # doctest: +SKIP
    """

    def __init__(self, task, report, title, question, header=""):
        self.task, self.report, self.title, self.question, self.header = task, report, title, question, header
        self.setup_rows = []
        self.blocks = {"setup": [], "results": [], "crossbackend": []}
        self.findings, self.claims, self.limitations = [], [], []
        self.figures = {}

    def setup(self, key, value):
        """Add a row to the Setup table."""
        self.setup_rows.append((key, value))

    def table(self, df, caption, section="results", floatfmt=".4g", index=False):
        """Add a DataFrame as a markdown table with a bold caption."""
        md = df.to_markdown(index=index, floatfmt=floatfmt)
        self.blocks[section].append(f"**{caption}**\n\n{md}")

    def text(self, paragraph, section="results"):
        self.blocks[section].append(paragraph)

    def figure(self, fig, name, caption, section="results"):
        """Add a matplotlib figure; it is saved as `figures/<task>_<name>.png` on render."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        file = f"{self.task}_{name}.png"
        self.figures[file] = buf.getvalue()
        self.blocks[section].append(f"![{caption}](figures/{file})\n\n*{caption}*")

    def finding(self, sentence):
        self.findings.append(sentence)

    def claim(self, claim, verdict, evidence):
        """Record the verdict on one of the original study's claims: agrees, disagrees or inconclusive."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        self.claims.append((claim, verdict, evidence))

    def limitation(self, sentence):
        self.limitations.append(sentence)

    def markdown(self, rule=""):
        """The whole writeup as markdown. `rule` states how claims were judged."""
        out = [f"# {self.task.capitalize()}: {self.title}", ""]
        if self.header:
            out += [f"*{self.header}*", ""]
        out += ["## Question", "", self.question, "", "## Setup", ""]
        if self.setup_rows:
            out += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in self.setup_rows] + [""]
        out += _blocks(self.blocks["setup"])
        out += ["## Results", ""] + _blocks(self.blocks["results"])
        if self.blocks["crossbackend"]:
            out += ["## Across backends", ""] + _blocks(self.blocks["crossbackend"])
        out += ["## Findings", ""] + [f"- {s}" for s in self.findings or ["(no findings: nothing was measured)"]]
        out += ["", "## Seed claims", ""]
        if rule:
            out += [f"Rule: {rule}", ""]
        if self.claims:
            out += ["| claim | verdict | evidence |", "|---|---|---|"]
            out += [f"| {c} | **{v}** | {e} |" for c, v, e in self.claims]
        out += ["", "## Limitations", ""] + [f"- {s}" for s in self.limitations] + [""]
        return "\n".join(out)

    def render(self, out_dir, rule=""):
        """Write the figures, then the markdown; returns the writeup's path."""
        out_dir = Path(out_dir)
        for file, png in self.figures.items():
            write_atomic(out_dir / "figures" / file, png)
        path = out_dir / self.report
        write_atomic(path, self.markdown(rule))
        return path


def _blocks(blocks):
    out = []
    for b in blocks:
        out += [b, ""]
    return out
