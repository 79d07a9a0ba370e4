"""Small, valid demo attachments built in memory: a one-page PDF with Chinese text and a PNG "photo".

The PDF uses the standard CJK font STSong-Light with the UniGB-UCS2-H encoding (no font embedded: PDF readers
supply it), so a project plan of a few lines costs well under a kilobyte and no renderer is needed.
"""

from __future__ import annotations

import struct
import zlib


def _pdf_text(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def pdf_document(lines: list[str]) -> bytes:
    """A one-page A4 PDF showing `lines` (the first as a title)."""
    ops = ["BT", "/F1 18 Tf", "72 770 Td", f"{_pdf_text(lines[0])} Tj", "/F1 12 Tf"]
    for line in lines[1:]:
        ops += ["0 -26 Td", f"{_pdf_text(line)} Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 7 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [5 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 6 0 R "
        b"/DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_picture(width: int = 160, height: int = 120, seed: int = 0) -> bytes:
    """A small RGB PNG: a soft gradient with a few coloured bands (a stand-in for an activity photo)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            band = ((x + seed * 17) // 20 + y // 30) % 3
            rows += bytes(((90 + x + seed * 13) % 256, (140 + y + band * 30) % 256, (200 - y // 2 + band * 10) % 256))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + _chunk(b"IEND", b""))
