"""The fast path's frames must be exactly what a WebSocket client parses, at every length
boundary of RFC 6455's three length encodings (checked with the websockets library's parser)."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from services.gateway.stream.wire import text_frame


def _parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    parser: Generator[None, None, Frame] = Frame.parse(
        reader.read_exact, mask=False, max_size=None, extensions=[]
    )
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("the parser wanted more bytes than the frame has")


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
def test_text_frame_parses_back_to_the_payload(length: int) -> None:
    payload = ("é" * length).encode()[:length]
    data = text_frame(payload)
    frame = _parse(data)
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert frame.data == payload
    assert len(data) == len(Frame(Opcode.TEXT, payload).serialize(mask=False))
