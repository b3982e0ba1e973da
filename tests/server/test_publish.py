"""`cme-credit-server publish|withdraw|learner add`: what an operator sees."""

from __future__ import annotations

import io
import json
import os

import httpx
import pytest

from creditserver.cli import main
from cmecore.protocol import Catalog

from tests.support.activities import minimal_activity

from .conftest import client_for, sign_in, write_folder


def _refused(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err  # one line an operator can read
    return err


def test_published_folder_is_served_with_hashed_assets(tmp_path, capsys, server_data):
    store = server_data()
    data = store.folder
    folder = write_folder(tmp_path / "act", minimal_activity("cli-act"))

    assert main(["publish", *store.options, "--videos-as-is", str(folder)]) == 0
    assert "published cli-act version 1" in capsys.readouterr().out
    assert main(["publish", *store.options, "--videos-as-is", str(folder)]) == 0
    assert "unchanged" in capsys.readouterr().out
    _stdin("s3cret passphrase\n")
    assert main(["learner", "add", *store.options, "--username", "nina", "--password-stdin",
                 "--profession", "nurse", "--display-name", "Nina Nurse", "--degree", "RN"]) == 0

    with store.serve() as server, client_for(server) as client:
        tokens = sign_in(client, "nina", "s3cret passphrase")
        assert tokens["learner"]["display_name"] == "Nina Nurse"
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        catalog = Catalog.model_validate_json(client.get("/catalog", headers=headers).content)
        [activity] = catalog.activities
        assert catalog.cursor == 1  # the identical republish did not bump the revision
        video, transcript = activity.assets
        assert (video.kind, video.media_type, video.size) == ("video", "video/mp4", 256 * 40)
        assert (transcript.kind, transcript.timed) == ("transcript", True)
        assert client.get(transcript.url.removeprefix("/api/v1"), headers=headers).content.startswith(b"WEBVTT")
    # Content-addressed store: DATA_DIR/media/ab/<sha256>
    assert (data / "media" / video.sha256[:2] / video.sha256).is_file()


def _stdin(text: str) -> bool:
    import sys

    sys.stdin = io.StringIO(text)
    return True


@pytest.fixture(autouse=True)
def _restore_stdin():
    import sys

    saved = sys.stdin
    yield
    sys.stdin = saved


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"accreditation": [{**minimal_activity()["accreditation"][0], "max_credits": -1}]},
         "accreditation.0.max_credits: Input should be greater than or equal to 0"),
        ({"termination_date": "not a date"}, "termination_date"),
        ({"id": "../etc"}, "id: String should match pattern"),
        ({"providers": []}, "providers"),
        ({"accreditation": [{**minimal_activity()["accreditation"][0], "uan": "12-34"}]}, "accreditation.0.uan"),
    ],
)
def test_invalid_activity_is_refused_naming_the_field(tmp_path, capsys, change, field):
    folder = write_folder(tmp_path / "bad", minimal_activity(**change))
    err = _refused(capsys, ["publish", "--data-dir", str(tmp_path / "data"), str(folder)])
    assert err.startswith("cme-credit-server: activity.json: ")
    assert field in err
    # Nothing was stored: a refused folder copies no media.
    media = tmp_path / "data" / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.parametrize(
    ("asset_path", "expected"),
    [
        ("/etc/passwd", "not absolute"),
        ("../outside.mp4", "must not leave the folder"),
        ("sub/../../outside.mp4", "must not leave the folder"),
        ("C:\\video.mp4", "not absolute"),
        ("link.mp4", "outside the folder"),
        ("notes.exe", "unknown file type '.exe'"),
        ("missing.mp4", "no such file"),
    ],
)
def test_asset_paths_must_stay_inside_the_folder(tmp_path, capsys, asset_path, expected):
    (tmp_path / "outside.mp4").write_bytes(b"secret")
    doc = minimal_activity(assets=[{"path": asset_path}])
    folder = write_folder(tmp_path / "act", doc, {"notes.exe": b"MZ"})
    os.symlink(tmp_path / "outside.mp4", folder / "link.mp4")

    err = _refused(capsys, ["publish", "--data-dir", str(tmp_path / "data"), str(folder)])
    assert "activity.json: assets.0.path" in err
    assert expected in err


def test_kind_that_contradicts_the_file_type_is_refused(tmp_path, capsys):
    folder = write_folder(tmp_path / "act", minimal_activity(assets=[{"path": "talk.vtt", "kind": "video"}]))
    err = _refused(capsys, ["publish", "--data-dir", str(tmp_path / "data"), str(folder)])
    assert "assets.0.kind" in err


def test_broken_json_and_missing_file_are_refused(tmp_path, capsys):
    folder = write_folder(tmp_path / "act", '{"id": "x",')
    assert "activity.json: not valid JSON" in _refused(capsys, ["publish", "--data-dir", str(tmp_path / "d"), str(folder)])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "activity.json: missing" in _refused(capsys, ["publish", "--data-dir", str(tmp_path / "d"), str(empty)])


def test_explicit_version_must_move_forward(tmp_path, capsys, server_data):
    store = server_data()
    folder = write_folder(tmp_path / "act", minimal_activity(version=3))
    assert main(["publish", *store.options, "--videos-as-is", str(folder)]) == 0
    write_folder(folder, minimal_activity(version=3, title="Changed without a new version"))
    assert "version: must be greater than the published version 3" in _refused(
        capsys, ["publish", *store.options, "--videos-as-is", str(folder)]
    )


def test_withdraw_from_the_command_line(tmp_path, capsys, server_data):
    store = server_data()
    folder = write_folder(tmp_path / "act", minimal_activity("going"))
    assert main(["publish", *store.options, "--videos-as-is", str(folder)]) == 0
    assert main(["withdraw", *store.options, "going"]) == 0
    assert "withdrew going" in capsys.readouterr().out
    assert "no activity 'nope'" in _refused(capsys, ["withdraw", *store.options, "nope"])

    with store.serve() as server, client_for(server) as client:
        server.add_learner("u", "pw")
        headers = {"Authorization": f"Bearer {sign_in(client, 'u', 'pw')['access_token']}"}
        assert client.get("/catalog", headers=headers).json()["activities"] == []
        assert client.get("/catalog", params={"since": 1}, headers=headers).json()["withdrawn"] == ["going"]


def test_learner_add_refuses_bad_fields_and_duplicates(capsys, server_data):
    base = ["learner", "add", *server_data().options, "--password-stdin", "--profession", "pharmacist",
            "--display-name", "Phil", "--degree", "PharmD"]
    _stdin("long enough pw\n")
    err = _refused(capsys, [*base, "--username", "phil", "--birth-mmdd", "1399"])
    assert "learner: birth_mmdd" in err
    _stdin("long enough pw\n")
    assert main([*base, "--username", "phil", "--nabp-eprofile-id", "7654321", "--birth-mmdd", "1231"]) == 0
    _stdin("long enough pw\n")
    assert "already exists" in _refused(capsys, [*base, "--username", "phil"])


def test_cli_requires_a_data_dir(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["publish", "somewhere"])
    assert exc.value.code == 2
    assert "--data-dir" in capsys.readouterr().err


def test_publish_without_version_starts_at_1_and_asset_json_has_no_local_paths(tmp_path, server_data):
    store = server_data()
    folder = write_folder(tmp_path / "act", minimal_activity("paths"))
    assert main(["publish", *store.options, "--videos-as-is", str(folder)]) == 0
    with store.serve() as server:
        server.add_learner("u", "pw")
        client = httpx.Client(base_url=server.api_url)
        headers = {"Authorization": f"Bearer {sign_in(client, 'u', 'pw')['access_token']}"}
        [activity] = client.get("/catalog", headers=headers).json()["activities"]
        client.close()
    assert activity["version"] == 1
    assert all("path" not in a for a in activity["assets"])
    assert str(folder) not in json.dumps(activity)
