"""A zip archive written as a stream of byte chunks, so a batch never holds all its images at once."""

import io
import zipfile


class _ChunkSink(io.RawIOBase):
    """An unseekable file that keeps what was written until it is drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class ZipStream:
    """Add members one at a time and take the bytes written so far after each."""

    def __init__(self) -> None:
        self._sink = _ChunkSink()
        self._zip = zipfile.ZipFile(self._sink, mode="w")

    def add(self, name: str, data: bytes, compress: bool = False) -> bytes:
        """Write one member (images are stored, text is deflated) and return the new bytes."""
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._zip.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=method)
        return self._sink.drain()

    def close(self) -> bytes:
        """Write the central directory and return the last bytes."""
        self._zip.close()
        return self._sink.drain()
