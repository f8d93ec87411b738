"""The QR code of a one-time enrolment code, as inline SVG (the gate's scanner reads it)."""

from __future__ import annotations

import io

import segno


def qr_svg(code: str) -> str:
    buffer = io.BytesIO()
    segno.make(f"GRIDGATE-ENROL:{code}", error="m").save(
        buffer, kind="svg", scale=6, border=2, xmldecl=False, svgns=True
    )
    return buffer.getvalue().decode()
