"""Every source goes through `BlobStore.ingest`: wrong bytes from any of them are refused and
nothing half-written stays in the store (no file under its name, no temp file, and a
download's own `.part` untouched unless the download itself was the one refused)."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile

import httpx
import pytest

from desktop.cache.blobstore import BlobStore, TransferInterrupted
from desktop.errors import AccessExpired, DamagedInTransit, PackRefused
from desktop.sync.downloads_transfer import ServerSource
from desktop.sync.sources import BlobFetcher, FetchTarget, PackSource, SharedFolderSource, SourceUnusable

GOOD = bytes(range(256)) * 800  # 200 KB
SHA = hashlib.sha256(GOOD).hexdigest()
BAD = GOOD[:1000] + bytes([GOOD[1000] ^ 0xFF]) + GOOD[1001:]  # same size, one byte flipped


def leftovers(store: BlobStore) -> list[str]:
    """Everything in the store's folders (files only, relative names)."""
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def authorized(call, learner_id=None):
    return call("token-1")


def server_source(body: bytes, seen: list | None = None) -> ServerSource:
    def reply(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, stream=httpx.ByteStream(body), headers={"Content-Length": str(len(body))})

    client = httpx.Client(transport=httpx.MockTransport(reply))
    return ServerSource(client, server_url="https://cme.example", authorized=authorized)


def test_the_server_source_refuses_a_wrong_hash_and_keeps_nothing(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(DamagedInTransit):
        store.ingest(server_source(BAD), FetchTarget(SHA, len(GOOD), f"/api/v1/media/{SHA}"))
    assert leftovers(store) == []  # not even the .part: damaged bytes are not worth resuming


def test_the_server_source_stores_good_bytes_and_sends_the_token_only_to_its_server(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    seen: list[httpx.Request] = []
    source = server_source(GOOD, seen)
    path = store.ingest(source, FetchTarget(SHA, len(GOOD), f"/api/v1/media/{SHA}"))
    assert path.read_bytes() == GOOD and leftovers(store) == [f"{SHA[:2]}/{SHA}"]
    assert seen[0].headers["Authorization"] == "Bearer token-1"
    other = hashlib.sha256(GOOD[:-1]).hexdigest()
    seen.clear()
    source = server_source(GOOD[:-1], seen)
    store.ingest(source, FetchTarget(other, len(GOOD) - 1, f"https://cdn.example/{other}"))
    assert "Authorization" not in seen[0].headers


def test_a_401_on_a_media_request_goes_to_authorized_which_asks_again(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    tokens = iter(["expired", "fresh"])
    calls = []

    def refreshing(call, learner_id=None):  # what Account.authorized does: once more after AccessExpired
        calls.append(1)
        try:
            return call(next(tokens))
        except AccessExpired:
            return call(next(tokens))

    def reply(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] != "Bearer fresh":
            return httpx.Response(401)
        return httpx.Response(200, stream=httpx.ByteStream(GOOD))

    source = ServerSource(httpx.Client(transport=httpx.MockTransport(reply)), server_url="https://cme.example",
                          authorized=refreshing)
    store.ingest(source, FetchTarget(SHA, len(GOOD), f"/api/v1/media/{SHA}"))
    assert store.path_for(SHA).read_bytes() == GOOD and calls == [1]


def test_a_stopped_server_download_keeps_its_part_and_hashes_it_once_when_continued(tmp_path, monkeypatch):
    store = BlobStore(tmp_path / "blobs")
    stop = threading.Event()
    target = FetchTarget(SHA, len(GOOD), f"/api/v1/media/{SHA}")

    def stop_halfway(have, received):
        if have >= len(GOOD) // 2:
            stop.set()

    with pytest.raises(TransferInterrupted):
        store.ingest(server_source(GOOD), target, progress=stop_halfway, stop=stop)
    kept = store.part_path_for(SHA).read_bytes()
    assert 0 < len(kept) < len(GOOD) and GOOD.startswith(kept)

    import desktop.cache.blobstore as blobstore

    rehashed = []
    monkeypatch.setattr(blobstore, "_hash_existing", lambda fd, n: rehashed.append(n))

    def rest(request: httpx.Request) -> httpx.Response:
        assert request.headers["Range"] == f"bytes={len(kept)}-"
        body = GOOD[len(kept):]
        return httpx.Response(206, stream=httpx.ByteStream(body), headers={
            "Content-Range": f"bytes {len(kept)}-{len(GOOD) - 1}/{len(GOOD)}", "Content-Length": str(len(body))})

    source = ServerSource(httpx.Client(transport=httpx.MockTransport(rest)), server_url="https://cme.example",
                          authorized=authorized)
    store.ingest(source, target)
    assert store.path_for(SHA).read_bytes() == GOOD and rehashed == []  # the hash kept in memory was continued
    assert leftovers(store) == [f"{SHA[:2]}/{SHA}"]


def test_the_shared_folder_source_refuses_a_wrong_hash_keeps_nothing_and_leaves_the_share_alone(tmp_path):
    share = BlobStore(tmp_path / "share")
    share.path_for(SHA).parent.mkdir(parents=True)
    share.path_for(SHA).write_bytes(BAD)
    store = BlobStore(tmp_path / "blobs")
    store.part_path_for(SHA).parent.mkdir(parents=True)
    store.part_path_for(SHA).write_bytes(GOOD[:5000])  # a download's bytes, from an earlier run
    source = SharedFolderSource(share.root)
    assert source.offers(FetchTarget(SHA, len(GOOD)))
    with pytest.raises(SourceUnusable):
        store.ingest(source, FetchTarget(SHA, len(GOOD)))
    assert leftovers(store) == [f"{SHA[:2]}/{SHA}.part"] and store.part_path_for(SHA).read_bytes() == GOOD[:5000]
    assert share.path_for(SHA).read_bytes() == BAD


def test_the_fetcher_falls_back_from_a_damaged_shared_copy_to_the_server(tmp_path):
    share = BlobStore(tmp_path / "share")
    share.path_for(SHA).parent.mkdir(parents=True)
    share.path_for(SHA).write_bytes(BAD)
    store = BlobStore(tmp_path / "blobs")
    seen: list[httpx.Request] = []
    fetcher = BlobFetcher(store, [SharedFolderSource(share.root), server_source(GOOD, seen)])
    result = fetcher.fetch(FetchTarget(SHA, len(GOOD), f"/api/v1/media/{SHA}"), progress=lambda *a: None,
                           stop=threading.Event())
    assert not result.already_present and result.path.read_bytes() == GOOD and len(seen) == 1
    assert leftovers(store) == [f"{SHA[:2]}/{SHA}"]


def pack_with(member: bytes) -> zipfile.ZipFile:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr(f"blobs/{SHA}", member)
    return zipfile.ZipFile(io.BytesIO(raw.getvalue()))


@pytest.mark.parametrize("member", [BAD, GOOD + b"x", GOOD[:-1]], ids=["flipped", "longer", "shorter"])
def test_the_pack_source_refuses_a_wrong_hash_and_keeps_nothing(tmp_path, member):
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(PackRefused, match="damaged"):
        store.ingest(PackSource(pack_with(member), "p.zip"), FetchTarget(SHA, len(GOOD)))
    assert leftovers(store) == []
    with pytest.raises(PackRefused, match="damaged"):  # checking against a blob already here keeps nothing either
        store.check(PackSource(pack_with(member), "p.zip"), FetchTarget(SHA, len(GOOD)))
    assert leftovers(store) == []


def test_a_staged_pack_blob_moves_into_the_store(tmp_path):
    staging = BlobStore(tmp_path / "blobs" / ".pack-import-x")
    store = BlobStore(tmp_path / "blobs")
    staging.ingest(PackSource(pack_with(GOOD), "p.zip"), FetchTarget(SHA, len(GOOD)))
    assert store.adopt(staging, SHA) == store.path_for(SHA)
    assert store.path_for(SHA).read_bytes() == GOOD and not staging.path_for(SHA).exists()
    assert store.adopt(staging, SHA) is None  # already here
