"""`cme-offline prefetch --quality`: IT fills the shared folder with the forms of each video
it chooses, and only those are fetched (the server's request log says so)."""

from __future__ import annotations

import pytest

from tests.shared.test_prefetch import login
from tests.support.cli import run_cli
from tests.support.media_publish import assert_store_verified, publish_activity, store_files
from tests.support.renditions import add_forms


def fetched(server) -> set[str]:
    return {r.path.rsplit("/", 1)[-1] for r in server.request_log.matching("/api/v1/media/")}


def test_prefetch_small_fetches_only_the_small_video_with_the_transcript_and_summary(server, tmp_path, data_dir,
                                                                                   monkeypatch, capsys):
    forms = add_forms(server, publish_activity(server, tmp_path / "pub", "talk-q", video_size=200_000), tmp_path / "f")
    login(monkeypatch, capsys, data_dir, server.url)
    share = tmp_path / "share"
    server.request_log.clear()
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-q", "--quality", "small",
                             "--data-dir", str(data_dir))
    assert (code, out, err) == (0, "", "")
    assert fetched(server) == {forms.small_sha} | forms.others  # neither the original nor the audio
    assert set(store_files(share)) == {forms.small_sha} | forms.others
    assert_store_verified(share)


def test_several_qualities_as_a_list_or_repeated(server, tmp_path, data_dir, monkeypatch, capsys):
    forms = add_forms(server, publish_activity(server, tmp_path / "pub", "talk-q", video_size=200_000), tmp_path / "f")
    login(monkeypatch, capsys, data_dir, server.url)
    for i, options in enumerate((["--quality", "small,audio"], ["--quality", "audio", "--quality", "small"])):
        share = tmp_path / f"share{i}"
        code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-q", *options,
                                 "--data-dir", str(data_dir))
        assert (code, out, err) == (0, "", "")
        assert set(store_files(share)) == {forms.small_sha, forms.audio_sha} | forms.others
    with pytest.raises(SystemExit) as usage:  # argparse's usage error
        run_cli(monkeypatch, capsys, "prefetch", "--into", str(tmp_path / "x"), "talk-q", "--quality", "tiny",
                "--data-dir", str(data_dir))
    assert usage.value.code == 2 and "'tiny' is not a video quality" in capsys.readouterr().err


def test_small_for_a_video_with_no_small_form_carries_what_a_small_learner_gets(server, tmp_path, data_dir,
                                                                              monkeypatch, capsys):
    pub = publish_activity(server, tmp_path / "pub", "talk-o", video_size=100_000)
    login(monkeypatch, capsys, data_dir, server.url)
    share = tmp_path / "share"
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-o", "--quality", "small",
                             "--data-dir", str(data_dir))
    assert (code, out, err) == (0, "", "")
    assert set(store_files(share)) == pub.shas  # the original: the only form, the one a Small learner plays


def test_the_policy_maximum_refuses_a_larger_quality_and_sets_the_default(server, tmp_path, data_dir, monkeypatch,
                                                                         capsys, no_machine_policy):
    forms = add_forms(server, publish_activity(server, tmp_path / "pub", "talk-q", video_size=200_000), tmp_path / "f")
    no_machine_policy.write_text('max_download_quality = "small"\n')
    login(monkeypatch, capsys, data_dir, server.url)
    share = tmp_path / "share"
    server.request_log.clear()
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-q", "--quality", "best",
                             "--data-dir", str(data_dir))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "policy allows videos up to Small, so Best cannot be carried" in err
    assert fetched(server) == set() and not share.exists()

    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-q",
                             "--data-dir", str(data_dir))  # no --quality: the policy's maximum
    assert (code, out, err) == (0, "", "")
    assert set(store_files(share)) == {forms.small_sha} | forms.others


def test_a_video_with_no_form_within_the_maximum_is_one_failed_line(server, tmp_path, data_dir, monkeypatch, capsys,
                                                                    no_machine_policy):
    pub = publish_activity(server, tmp_path / "pub", "talk-o", video_size=100_000)  # the original alone
    no_machine_policy.write_text('max_download_quality = "small"\n')
    login(monkeypatch, capsys, data_dir, server.url)
    share = tmp_path / "share"
    code, out, err = run_cli(monkeypatch, capsys, "prefetch", "--into", str(share), "talk-o",
                             "--data-dir", str(data_dir))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"the video of talk-o ({pub.video_sha[:12]}…) failed" in err
    assert "none of its forms is within this computer's policy maximum (Small)" in err
    assert set(store_files(share)) == {pub.transcript_sha, pub.summary_sha}  # the rest is carried

