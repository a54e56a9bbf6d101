"""The sample TAQ day: deterministic, in the real files' layout, and parsed by the real adapter."""

from __future__ import annotations

from pathlib import Path

from hftmm.sample.taq_day import generate_taq_day



def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_taq_day(tmp_path / "a", scale=0.05)
    b = generate_taq_day(tmp_path / "b", scale=0.05)
    for pa_, pb in zip((a.trades, *a.quotes, a.nbbo, a.master), (b.trades, *b.quotes, b.nbbo, b.master), strict=True):
        assert pa_.read_bytes() == pb.read_bytes()


def test_layout_matches_the_real_files(tmp_path: Path, shared_data: Path) -> None:
    files = generate_taq_day(tmp_path, scale=0.05)
    pairs = [(files.trades, "small_EQY_US_ALL_TRADE_20180730"), (files.quotes[0], "small_SPLITS_US_ALL_BBO_Z_20180730"),
             (files.master, "small_EQY_US_ALL_REF_MASTER_20180306")]
    for ours, real in pairs:
        assert ours.read_text().splitlines()[0] == (shared_data / "taq" / real).read_text().splitlines()[0]
    for path in (files.trades, *files.quotes, files.nbbo, files.master):
        lines = path.read_text().splitlines()
        n_cols = lines[0].count("|") + 1
        assert all(line.count("|") + 1 == n_cols for line in lines[1:])
        assert lines[-1].startswith(f"END|20240311|{len(lines) - 2}|")
        times = [line[:15] for line in lines[1:-1]] if path != files.master else []
        assert all(len(t) == 15 and t.isdigit() and "040000000000000" <= t <= "200000000000000" for t in times)
    conds = {line.split("|")[3] for line in files.trades.read_text().splitlines()[1:-1]}
    assert {"    ", " F  ", "   I", " F I", "  T ", " O  ", "   Q", " 6  ", "   M"} <= conds
