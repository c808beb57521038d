"""A worker prepares its PROMETHEUS_MULTIPROC_DIR as it starts (docker-compose's
workers name one that does not exist yet): created, and emptied of a previous
run's counts, which would otherwise be summed into this run's."""

from prism.worker_metrics import prepare_multiprocess_directory


def test_the_directory_is_created_when_missing(tmp_path, monkeypatch):
    directory = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))

    prepare_multiprocess_directory()

    assert directory.is_dir()


def test_a_previous_runs_counts_are_removed(tmp_path, monkeypatch):
    (tmp_path / "counter_123.db").write_bytes(b"old counts")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    prepare_multiprocess_directory()

    assert list(tmp_path.iterdir()) == []


def test_nothing_happens_without_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)

    prepare_multiprocess_directory()

    assert list(tmp_path.iterdir()) == []
