"""The journal file: records, a torn end, a damaged middle, rotation, replay into a state."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from videowall.situation import Envelope, Kind
from videowall.situation.journal import Journal, encode_record, journal_files, read_journal
from videowall.situation.models import CameraStatus
from videowall.situation.persistence import journal_path, load_state, save_state
from videowall.situation.state import SituationState

ROOT = Path(__file__).resolve().parents[2]


def cam(n: int, seq: int) -> tuple[int, bytes]:
    return seq, Envelope.upsert(CameraStatus(id=f"C{n}", online=True), seq=seq).to_json()


def test_records_come_back_in_order(tmp_path) -> None:
    journal = Journal(tmp_path / "j")
    assert journal.append([cam(1, 1), cam(2, 2)]) == 2
    assert journal.append([]) == 0
    journal.append([cam(3, 3)])
    journal.close()
    result = read_journal(tmp_path / "j")
    assert [seq for seq, _ in result.records] == [1, 2, 3]
    assert result.torn_bytes == result.damaged_bytes == 0
    with pytest.raises(ValueError, match="one line"):
        encode_record(4, b"{\n}")


@pytest.mark.parametrize("tail", [
    b"4 0badf00d {\"version\":1,\"ki",  # cut in the middle of a record
    b"4 0bad",  # cut in its header
    b"\x00" * 300,  # a file extended before its data reached the disk
    encode_record(4, b"{}")[:-1],  # all but the newline: never acknowledged either
    b"4 00000000 {\"version\":1}\n",  # a whole last line with a wrong checksum
])
def test_a_torn_end_is_cut_off_with_a_warning(tmp_path, caplog, tail: bytes) -> None:
    path = tmp_path / "j"
    journal = Journal(path)
    journal.append([cam(1, 1), cam(2, 2)])
    journal.close()
    whole = path.stat().st_size
    with path.open("ab") as fh:
        fh.write(tail)
    before = path.read_bytes()
    assert len(read_journal(path, repair=False).records) == 2
    assert path.read_bytes() == before  # a reader alone changes nothing
    with caplog.at_level(logging.WARNING):
        result = read_journal(path)
    assert len(result.records) == 2 and result.torn_bytes == len(tail)
    assert "torn last record" in caplog.text
    assert path.stat().st_size == whole
    again = Journal(path)
    again.append([cam(3, 3)])
    again.close()
    assert [s for s, _ in read_journal(path).records] == [1, 2, 3]


def test_a_damaged_record_before_the_end_stops_the_replay_and_is_kept_aside(
    tmp_path, caplog
) -> None:
    path = tmp_path / "j"
    journal = Journal(path)
    journal.append([cam(1, 1), cam(2, 2), cam(3, 3)])
    journal.close()
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"C2"', b'"X2"')  # bit rot: the checksum no longer fits
    path.write_bytes(b"".join(lines))
    with caplog.at_level(logging.ERROR):
        result = read_journal(path)
    assert [s for s, _ in result.records] == [1] and result.damaged_bytes > 0
    assert "damaged record" in caplog.text
    assert (tmp_path / "j.damaged").read_bytes() == lines[1] + lines[2]


def test_rotation_and_the_replay_order(tmp_path) -> None:
    journal = Journal(tmp_path / "j")
    journal.append([cam(1, 1)])
    assert journal.rotate()
    journal.append([cam(2, 2)])
    assert not journal.rotate()  # `.1` not yet removed by a finished compaction
    journal.append([cam(3, 3)])
    journal.close()
    files = list(journal_files(tmp_path / "j"))
    assert [p.name for p in files] == ["j.1", "j"]
    assert [s for p in files for s, _ in read_journal(p).records] == [1, 2, 3]


def test_load_state_replays_the_journal_after_the_file(tmp_path) -> None:
    state = SituationState()
    for n in (1, 2):
        state.apply(Envelope.upsert(CameraStatus(id=f"C{n}", online=True), seq=n))
    path = tmp_path / "state.json"
    save_state(path, state)
    journal = Journal(journal_path(path))
    journal.append([cam(2, 2), cam(3, 3)])  # seq 2 is in the file already: skipped
    journal.append([(4, Envelope.delete(Kind.CAMERA, "C1", seq=4).to_json())])
    journal.close()
    loaded = load_state(path)
    assert loaded.seq == 4 and sorted(loaded.items("camera")) == ["C2", "C3"]
    assert load_state(path, journal=False).seq == 2
    path.unlink()  # journalled before the first full save
    assert load_state(path).seq == 4


FULL_THEN_FREE = """
import resource, signal, sys
from videowall.situation.journal import Journal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
journal = Journal(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # the disk fills up
failed = 0
for seq in range(1, 40):
    try:
        journal.append([(seq, b'{"n":%d,"pad":"%s"}' % (seq, b"x" * 40))])
    except OSError:
        failed += 1
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # room again
journal.append([(99, b'{"after":true}')])
print(failed)
"""


def test_a_write_that_fails_half_way_leaves_no_partial_record_behind(tmp_path) -> None:
    path = tmp_path / "j"
    done = subprocess.run([sys.executable, "-c", FULL_THEN_FREE, str(path)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=30, check=True)
    assert int(done.stdout) > 0  # some appends did fail
    result = read_journal(path, repair=False)
    assert result.torn_bytes == result.damaged_bytes == 0
    seqs = [seq for seq, _ in result.records]
    assert seqs[-1] == 99 and seqs[:-1] == list(range(1, len(seqs)))
