"""The real ``triage`` command in a subprocess: process and import over every input form."""

from __future__ import annotations

import json
import mailbox
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from classifiers.corpus import TOPICS, URGENCIES
from tests import torture
from triage.db.models import Message
from triage.output import KEYS
from tests.commands import run_triage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "eml"
SAMPLES = sorted(FIXTURES.glob("*.eml"))[:5]


@pytest.fixture(autouse=True)
def models_for_commands(trained_models, monkeypatch):
    """Every command in this module uses the model trained once for the run."""
    monkeypatch.setenv("TRIAGE_MODELS_DIR", str(trained_models))


def json_lines(output: bytes) -> list[dict]:
    return [json.loads(line) for line in output.decode("utf-8").splitlines()]


def test_process_prints_one_json_line_per_file_with_every_key():
    """Each .eml gives one JSON object carrying the whole stable key set."""
    result = run_triage("process", *map(str, SAMPLES))
    records = json_lines(result.stdout)
    assert result.returncode == 0
    assert [record["source"] for record in records] == list(map(str, SAMPLES))
    assert all(set(KEYS) <= set(record) for record in records)
    assert all(record["new_text"] for record in records)
    assert all(record["topic"] in TOPICS and record["urgency"] in URGENCIES for record in records)
    assert all(record["model_version"] and record["language"] for record in records)


def test_process_reads_a_folder_an_mbox_and_a_maildir(tmp_path):
    """A folder, an mbox and a maildir each yield their messages, labelled path#position."""
    box = mailbox.mbox(tmp_path / "inbox.mbox")
    maildir = mailbox.Maildir(tmp_path / "maildir")
    for sample in SAMPLES:
        box.add(sample.read_bytes())
        maildir.add(sample.read_bytes())
    box.close()
    folder = tmp_path / "folder"
    folder.mkdir()
    for sample in SAMPLES:
        shutil.copy(sample, folder / sample.name)
    result = run_triage("process", str(folder), str(tmp_path / "inbox.mbox"), str(tmp_path / "maildir"))
    sources = [record["source"] for record in json_lines(result.stdout)]
    assert len(sources) == 3 * len(SAMPLES)
    assert f"{tmp_path / 'inbox.mbox'}#1" in sources
    assert f"{tmp_path / 'maildir'}#{len(SAMPLES)}" in sources
    mbox_subjects = [r["subject"] for r in json_lines(result.stdout) if "inbox.mbox#" in r["source"]]
    assert len(set(mbox_subjects)) == len(SAMPLES)


def test_process_reads_standard_input():
    """``triage process -`` triages the one message piped in."""
    result = run_triage("process", "-", stdin=SAMPLES[0].read_bytes())
    (record,) = json_lines(result.stdout)
    assert record["source"] == "-"
    assert record["message_id"]


def test_process_reports_bad_input_per_message_and_goes_on(tmp_path):
    """A missing path or an oversized message gives an error line; the others still come out."""
    big = tmp_path / "big.eml"
    big.write_bytes(torture.big_attachment(megabytes=2))
    result = run_triage("process", "/no/such/file.eml", str(big), str(SAMPLES[0]),
                        env={"TRIAGE_MAX_MESSAGE_BYTES": "1048576"})
    records = json_lines(result.stdout)
    assert "no such file" in records[0]["error"]
    assert "over the limit" in records[1]["error"]
    assert "error" not in records[2] and records[2]["new_text"]


@pytest.mark.parametrize("name", sorted(torture.TORTURE_SET))
def test_process_survives_every_torture_message(tmp_path, name):
    """Each torture message, followed by a good one, gives two lines: the batch never stops."""
    bad = tmp_path / f"{name}.eml"
    bad.write_bytes(torture.TORTURE_SET[name]())
    result = run_triage("process", str(bad), str(SAMPLES[0]))
    records = json_lines(result.stdout)
    assert result.returncode == 0
    assert [record["source"] for record in records] == [str(bad), str(SAMPLES[0])]


def test_import_stores_each_message_once_and_reports_counts(database_url, engine, tmp_path):
    """Importing a folder twice stores every message once and reports stored/duplicate/failed."""
    env = {"TRIAGE_DATABASE_URL": database_url}
    first = run_triage("import", str(FIXTURES), "/no/such.eml", env=env, cwd=tmp_path)
    second = run_triage("import", str(FIXTURES), env=env, cwd=tmp_path)
    count = len(list(FIXTURES.glob("*.eml")))
    assert first.stdout.decode().split() == ["stored", str(count), "duplicate", "0", "failed", "1"]
    assert first.returncode == 1 and b"no such file" in first.stderr
    assert second.stdout.decode().split() == ["stored", "0", "duplicate", str(count), "failed", "0"]
    with Session(engine) as session:
        assert len(session.exec(select(Message)).all()) == count
