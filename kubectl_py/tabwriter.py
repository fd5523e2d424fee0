"""Go's text/tabwriter, cell for cell.

kubectl aligns every table (get, rollout history, describe) with Go's elastic tabstops, and the
look of its output comes from that algorithm's details: the last cell of a line is not part of a
column, a line with fewer cells ends a column block, and widths are `max(minwidth, cell+padding)`.
Reimplementing it exactly is what makes kubectl-py's output byte-identical to kubectl's.
`remember_widths` mirrors the liggitt/tabwriter fork kubectl uses for `get -w`, where a column
never shrinks between flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TabWriter:
    minwidth: int = 0
    padding: int = 2
    remember_widths: bool = False
    _lines: list[list[str]] = field(default_factory=list)
    _partial: str = ""
    _remembered: list[int] = field(default_factory=list)

    def write(self, text: str) -> None:
        data = self._partial + text
        *complete, self._partial = data.split("\n")
        for line in complete:
            self._lines.append(line.split("\t"))

    def flush(self) -> str:
        """Format everything written so far and return it; the writer is empty afterwards."""
        lines = self._lines
        if self._partial:
            lines.append(self._partial.split("\t"))
        out: list[str] = []
        self._format(lines, 0, len(lines), [], out)
        text = "\n".join(out)
        if not self._partial and lines:
            text += "\n"
        self._lines, self._partial = [], ""
        return text

    def _format(self, lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            self._write_lines(lines, line0, this, widths, out)
            line0 = this
            width = self.minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + self.padding)
                this += 1
            if self.remember_widths:
                if column < len(self._remembered):
                    width = max(width, self._remembered[column])
                    self._remembered[column] = width
                else:
                    self._remembered.append(width)
            self._format(lines, line0, this, [*widths, width], out)
            line0 = this
        self._write_lines(lines, line0, line1, widths, out)

    @staticmethod
    def _write_lines(lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]) -> None:
        for line in lines[line0:line1]:
            parts = []
            for j, cell in enumerate(line):
                parts.append(cell)
                if j < len(widths) and j < len(line) - 1:
                    parts.append(" " * (widths[j] - len(cell)))
            out.append("".join(parts))


def tabbed(rows: list[list[str]], *, minwidth: int = 0, padding: int = 2) -> str:
    """Rows of cells aligned as kubectl's `tabbedString` does (minwidth 0, padding 2)."""
    writer = TabWriter(minwidth=minwidth, padding=padding)
    writer.write("".join("\t".join(row) + "\n" for row in rows))
    return writer.flush()
