import pytest

from tsrnn.report.atomic import atomic_path, write_text_atomic


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    write_text_atomic(target, "old report")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half a rep")
        raise KeyboardInterrupt
    assert target.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_written_file_is_readable_by_others(tmp_path):
    target = write_text_atomic(tmp_path / "deep" / "out.md", "x")
    assert target.read_text() == "x"
    assert target.stat().st_mode & 0o044 == 0o044
