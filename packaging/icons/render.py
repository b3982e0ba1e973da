"""Render cme-offline.svg to the PNG (Linux) and ICO (Windows) files committed beside it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/icons/render.py

macOS needs an .icns: `iconutil -c icns` on an .iconset of these PNG sizes (see
docs/deployment.md); iconutil only exists on macOS.
"""

import struct
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent


def render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(HERE / "cme-offline.svg")).render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def write_ico(path: Path, sizes=(16, 24, 32, 48, 64, 128, 256)) -> None:
    """An ICO whose images are PNG-compressed (Windows Vista and later read these)."""
    images = [png_bytes(render(size)) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, data in zip(sizes, images):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    path.write_bytes(header + entries + b"".join(images))


def main() -> None:
    app = QGuiApplication([])  # noqa: F841 - QPainter needs one
    render(256).save(str(HERE / "cme-offline.png"))
    render(48).save(str(HERE / "cme-offline-48.png"))
    write_ico(HERE / "cme-offline.ico")


if __name__ == "__main__":
    main()
