"""A download's torrent, trackers, files and stream on the Tribler conformance server (8.4.3).

Handlers of ``libtorrent/restapi/downloads_endpoint.py`` at ``v8.4.3``: ``get_torrent``,
``add_tracker``/``remove_tracker``/``tracker_force_announce``, ``get_files`` and ``stream``
(``Range`` answered as the core's ``StreamResponse`` does, one piece at a time). A streamed download
is marked, because the real core then answers 500 to its removal (issue 24).
"""

from __future__ import annotations

from aiohttp import web

from .records import PIECE_LENGTH, FakeDownload, handled, rest


class FileRoutes:
    """Per-download content handlers; mixed into :class:`~.server.TriblerServer`, whose state they use."""

    def _get(self, request: web.Request) -> FakeDownload | None:
        raise NotImplementedError

    async def get_torrent(self, request: web.Request) -> web.Response:
        download = self._get(request)
        if download is None or download.metainfo is None:
            return handled("this download does not exist", 404)
        return web.Response(
            body=download.metainfo,
            headers={
                "content-type": "application/x-bittorrent",
                "Content-Disposition": f"attachment; filename={download.infohash}.torrent",
            },
        )

    async def _tracker_request(self, request: web.Request) -> tuple[FakeDownload, str] | web.Response:
        """The download and ``url`` a tracker route names, or the core's error answer."""
        download = self._get(request)
        if download is None:
            return handled("this download does not exist", 404)
        url = (await request.json()).get("url")
        if not url:
            return handled("url parameter missing", 400)
        return download, str(url)

    async def add_tracker(self, request: web.Request) -> web.Response:
        found = await self._tracker_request(request)
        if isinstance(found, web.Response):
            return found
        download, url = found
        download.trackers.append(url)
        return rest({"added": True})

    async def remove_tracker(self, request: web.Request) -> web.Response:
        found = await self._tracker_request(request)
        if isinstance(found, web.Response):
            return found
        download, url = found
        download.trackers = [t for t in download.trackers if t != url]
        return rest({"removed": True})

    async def force_announce(self, request: web.Request) -> web.Response:
        found = await self._tracker_request(request)
        return found if isinstance(found, web.Response) else rest({"forced": True})

    async def get_files(self, request: web.Request) -> web.Response:
        download = self._get(request)
        if download is None:
            return handled("this download does not exist", 404)
        files = [
            {
                "index": index,
                "name": name,
                "size": size,
                "included": download.selected_files is None or index in download.selected_files,
                "progress": download.progress,
            }
            for index, (name, size) in enumerate(download.files)
        ]
        return rest({"infohash": request.match_info["infohash"], "files": files})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        download = self._get(request)
        if download is None or not download.files:
            return handled("this download does not exist", 404)
        index = int(request.match_info["fileindex"])
        if not 0 <= index < len(download.files):
            return handled("this download does not exist", 404)
        download.streamed = True
        data = download.file_data(index)
        size = len(data)
        response = web.StreamResponse()
        try:
            start, stop = request.http_range.start, request.http_range.stop
        except ValueError:
            response.headers["Content-Range"] = f"bytes */{size}"
            response.set_status(416)
            await response.prepare(request)
            return response
        todo = size
        if start is not None or stop is not None:
            start = start or 0
            if start < 0:
                start = max(start + size, 0)
            stop = min(stop if stop is not None else size, size)
            todo = stop - start
            if start >= size:
                response.headers["Content-Range"] = f"bytes */{size}"
                response.set_status(416)
                await response.prepare(request)
                return response
            response.headers["Content-Range"] = f"bytes {start}-{start + todo - 1}/{size}"
            response.set_status(206)
        start = start or 0
        response.content_type = "video/mp4" if download.files[index][0].endswith("mp4") else "application/octet-stream"
        response.content_length = todo
        response.headers["Accept-Ranges"] = "bytes"
        await response.prepare(request)
        # The core writes one piece at a time, as pieces arrive.
        for at in range(start, start + todo, PIECE_LENGTH):
            await response.write(data[at : min(at + PIECE_LENGTH, start + todo)])
        await response.write_eof()
        return response
