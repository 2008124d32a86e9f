"""Cells of the tab-separated tables in the documents, with the headers that say what each cell is.

The network table of the 総合振興パッケージ (広島県・徳島県・高知県 × 地方大学・地域産業創生交付金 /
共創の場形成支援プログラム / 都道府県の推進体制 × 名称・構成員・取組概要) comes out of the PDF as one line
per row with tab-separated cells, its two header lines above. A sentence split of such a row mixes nine
cells; a question (「高知県の共創の場の拠点の名前は？」) matches a cell only together with its row and
column headers. So each data cell is kept with its row label, column group and column name; the cell text
itself is what gets quoted (it is verbatim in its row's line).
"""

from __future__ import annotations

from dataclasses import dataclass

#: A line with at least this many tabs is a table row.
MIN_TABS = 2


@dataclass(frozen=True)
class TableCell:
    doc_id: str
    line: int  # 1-based line of the row
    text: str  # the cell as printed (a verbatim substring of the line)
    row: str  # the row label (first cell), e.g. 高知県
    group: str  # the column group header, e.g. 共創の場形成支援プログラム（文部科学省）
    column: str  # the column header, e.g. 名称

    @property
    def context(self) -> str:
        """What the cell is about, for matching a question: row, column group, column, then the cell."""
        return " ".join(part for part in (self.row, self.group, self.column, self.text) if part)

    @property
    def label(self) -> str:
        return "／".join(part for part in (self.row, self.group, self.column) if part)


def extract_cells(doc_id: str, lines: list[str]) -> list[TableCell]:
    """All data cells of the tab tables of one document (header lines are those with an empty first cell)."""
    cells: list[TableCell] = []
    block: list[tuple[int, list[str]]] = []
    for number, line in enumerate([*lines, ""], start=1):
        if line.count("\t") >= MIN_TABS:
            block.append((number, line.split("\t")))
            continue
        if block:
            cells.extend(_block_cells(doc_id, block))
            block = []
    return cells


def _block_cells(doc_id: str, block: list[tuple[int, list[str]]]) -> list[TableCell]:
    headers = [cells for _, cells in block if not cells[0].strip()]
    groups = _forward_filled(headers[0]) if headers else []
    columns = [c.strip() for c in headers[-1]] if len(headers) > 1 else []
    found = []
    for number, cells in block:
        row = cells[0].strip()
        if not row:
            continue
        for index, text in enumerate(cells[1:], start=1):
            text = text.strip()
            if not text or text in {"-", "－", "ー", "―"}:
                continue
            found.append(
                TableCell(
                    doc_id=doc_id,
                    line=number,
                    text=text,
                    row=row,
                    group=groups[index] if index < len(groups) else "",
                    column=columns[index] if index < len(columns) else "",
                )
            )
    return found


def _forward_filled(cells: list[str]) -> list[str]:
    """A group header spans the empty cells to its right (merged cells lose their span in the PDF text)."""
    filled, current = [], ""
    for cell in cells:
        current = cell.strip() or current
        filled.append(current)
    return filled
