"""Snapshot files: only new regular files inside the snapshot folder, bounded in rate and size."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from videowall.wall import ActionError
from videowall.wall.snapshots import SnapshotPolicy


def test_default_names_are_unique_inside_the_folder(tmp_path: Path) -> None:
    policy = SnapshotPolicy(tmp_path / "snaps")
    first = policy.target("cam/01")
    policy.write(first, b"png")
    second = policy.target("cam/01")
    assert first.parent == second.parent == (tmp_path / "snaps").resolve()
    assert first != second and first.name.startswith("cam_01-") and first.suffix == ".png"


@pytest.mark.parametrize(("name", "reason"), [
    ("../outside.png", "only inside"),
    ("/etc/cron.d/x.png", "only inside"),
    ("shot.txt", "must end in .png"),
    ("nested/missing/x.png", "no folder"),
    ("a\x00.png", "NUL"),
])
def test_names_outside_the_folder_or_odd_are_refused(tmp_path: Path, name: str,
                                                     reason: str) -> None:
    with pytest.raises(ActionError, match=reason):
        SnapshotPolicy(tmp_path / "snaps").target("cam", name)


def test_links_fifos_and_existing_files_are_never_written(tmp_path: Path) -> None:
    folder = tmp_path / "snaps"
    policy = SnapshotPolicy(folder)
    policy.target("cam")  # creates the folder
    outside = tmp_path / "secret"
    outside.mkdir()
    (folder / "escape").symlink_to(outside)
    with pytest.raises(ActionError, match="only inside"):
        policy.target("cam", "escape/x.png")
    (folder / "link.png").symlink_to(outside / "target.png")
    with pytest.raises(ActionError, match="never overwrite"):
        policy.target("cam", "link.png")
    os.mkfifo(folder / "fifo.png")
    with pytest.raises(ActionError, match="never overwrite"):
        policy.target("cam", "fifo.png")
    # A FIFO planted between choosing the name and writing: refused at once, no hang.
    late = policy.target("cam", "late.png")
    os.mkfifo(late)
    done = threading.Event()

    def write() -> None:
        with pytest.raises(ActionError, match="appeared"):
            policy.write(late, b"png")
        done.set()

    worker = threading.Thread(target=write)
    worker.start()
    worker.join(5)
    assert done.is_set() and not (outside / "target.png").exists()


def test_rate_and_quota(tmp_path: Path) -> None:
    now = [0.0]
    policy = SnapshotPolicy(tmp_path, max_per_minute=2, quota_bytes=10, clock=lambda: now[0])
    policy.write(policy.target("a"), b"12345")
    policy.target("a")
    with pytest.raises(ActionError, match="at most 2 snapshots a minute"):
        policy.target("a")
    now[0] = 61.0
    policy.write(policy.target("a"), b"67890")
    with pytest.raises(ActionError, match="quota"):
        policy.target("a")
