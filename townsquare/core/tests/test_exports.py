from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from townsquare.core.exports import csv_lines, csv_response, neutralise


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    for hostile in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(hostile) == "'" + hostile
    assert neutralise("plain, text") == "plain, text"
    assert neutralise(-3) == "-3" and neutralise(2.5) == "2.5"  # numbers are data, not formulas
    assert neutralise(None) == "" and neutralise(True) == "yes"


def test_rows_stream_and_parse_back() -> None:
    rows = (("=cmd|' /C calc'!A0", i, 'quote "me"') for i in range(3))
    response = csv_response("themes.csv", ["title", "n", "note"], rows)
    assert response.streaming and response["Content-Disposition"] == 'attachment; filename="themes.csv"'
    body = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    parsed = list(csv.reader(io.StringIO(body)))
    assert parsed[0] == ["title", "n", "note"]
    assert parsed[1] == ["'=cmd|' /C calc'!A0", "0", 'quote "me"']
    assert len(parsed) == 4


def test_lines_are_produced_one_row_at_a_time() -> None:
    produced = []

    def rows() -> Iterator[tuple[int]]:
        for i in range(3):
            produced.append(i)
            yield (i,)

    lines = csv_lines(["n"], rows())
    assert next(lines) == "n\r\n" and produced == []
    assert next(lines) == "0\r\n" and produced == [0]
