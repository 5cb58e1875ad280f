"""Codec round trips shared by the transcoding degradations (paper C.31-C.37).

A round trip resamples to the codec's sample rate, encodes, decodes, and resamples back to the
input rate; the output is time-aligned to the input and has exactly its length.

Two back ends produce the same result:
- in-process PyAV (fast, a few ms): the encoder and decoder contexts are driven directly;
- an ffmpeg subprocess (the binary of the `imageio-ffmpeg` wheel, never a system ffmpeg, its command
  line built by `ffmpeg-python`) piping raw float32 in and out, for encoders PyAV's build lacks
  (libvorbis) and as a fallback for all.

Alignment uses the streams' own timing, not a guess. FFmpeg encoders stamp their first packet with
pts = -(priming samples) (LAME's 576 + 529 decoder delay, Opus pre-skip, AC-3's 256, ...). The PyAV
back end decodes with `skip_manual`, so the decoder trims nothing, and the decoded samples are placed
on the timeline by their pts: output sample t is decoded sample t - pts0. The subprocess back end
pipes an encoding ffmpeg into a decoding one through Matroska, which carries the same timestamps
and codec delay, and the decoding ffmpeg trims by them. Both back ends agree to the sample.

`CodecTranscoding` is the base of the codec degradations whose params are just a bitrate and the
codec's sample rate (all but Opus, which also draws an encoder mode).
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Literal

import numpy as np

from sesqa.audio import resample

from .base import Degradation, SamplingContext, check_choice, check_range, fit_length, lerp

log = logging.getLogger(__name__)

Backend = Literal["pyav", "ffmpeg"]


@dataclass(frozen=True)
class CodecSpec:
    """How to run one codec through FFmpeg."""

    encoder: str
    """FFmpeg encoder name (e.g. ``"libmp3lame"``)."""
    decoder: str
    """FFmpeg decoder name for the same bitstream (e.g. ``"mp3"``)."""
    rates: tuple[int, ...]
    """Sample rates the encoder accepts; a Params' ``codec_sr_hz`` must be one of them."""
    header_format: str | None = None
    """Container whose header configures the PyAV decoder, for decoders needing more than
    extradata (WMA needs the encoder's block_align, which PyAV cannot set directly)."""
    lead_samples: int = 0
    """Codec-rate samples by which the decoded audio still leads the input once placed by its
    timestamps: libopencore's AMR-NB encoder declares 50 samples of priming where the round trip
    delays by 40, so its audio comes 10 samples early (measured: 10.03-10.13 in all eight modes,
    the same on both back ends; tests/test_telephony_codecs.py checks the alignment)."""


try:
    import av
    from av.codec.context import Flags2

    PYAV_ENCODERS: frozenset[str] = frozenset(av.codecs_available)
    PYAV_VERSION: str | None = av.__version__
except ImportError:  # PyAV is a dependency, but the subprocess path must still work without it
    PYAV_ENCODERS = frozenset()
    PYAV_VERSION = None

_INPUT_FORMATS = ("flt", "fltp", "s16", "s16p")


def backend_for(spec: CodecSpec) -> Backend:
    """In-process PyAV when its FFmpeg build has the encoder, else the ffmpeg subprocess."""
    return "pyav" if _pyav_has_encoder(spec.encoder) else "ffmpeg"


@functools.cache
def _pyav_has_encoder(name: str) -> bool:
    if name not in PYAV_ENCODERS:
        return False
    try:
        av.codec.Codec(name, "w")
    except (ValueError, av.FFmpegError):  # a decoder of that name only
        return False
    return True


@functools.cache
def ffmpeg_binary_encoders() -> frozenset[str]:
    """Encoders the imageio-ffmpeg binary lists (`ffmpeg -encoders`); empty when it cannot run."""
    try:
        listing = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=_TIMEOUT_S, check=True
        ).stdout
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        log.warning("cannot list the encoders of the ffmpeg binary: %s", e)
        return frozenset()
    # Rows look like " A....D libopus   libopus Opus"; the header ends with a " ------" line.
    rows = listing.split(" ------", 1)[-1].splitlines()
    return frozenset(parts[1] for parts in (row.split() for row in rows) if len(parts) > 1)


def encoder_available(name: str) -> bool:
    """Whether a round trip can encode with `name`, in process or through the ffmpeg binary."""
    return _pyav_has_encoder(name) or name in ffmpeg_binary_encoders()


def round_trip(
    x: np.ndarray,
    sr: int,
    spec: CodecSpec,
    bitrate_kbps: float,
    codec_sr: int,
    options: tuple[tuple[str, str], ...] = (),
    backend: Backend | None = None,
    decoder_options: tuple[tuple[str, str], ...] = (),
) -> np.ndarray:
    """Encode and decode `x` (mono, rate `sr`) at `codec_sr`; returns float32 aligned to `x`.

    `options` and `decoder_options` are the encoder's and the decoder's private options
    (name, value), e.g. (("application", "voip"),) and (("bits_per_codeword", "7"),).
    """
    if codec_sr not in spec.rates:
        raise ValueError(f"codec_sr_hz must be one of {spec.rates} for {spec.encoder}, got {codec_sr!r}")
    bit_rate = int(round(bitrate_kbps * 1000))
    run = _pyav_round_trip if (backend or backend_for(spec)) == "pyav" else _ffmpeg_round_trip

    def code(xc: np.ndarray) -> np.ndarray:
        return _shift(run(xc, codec_sr, spec, bit_rate, options, decoder_options), -spec.lead_samples, len(xc))

    return at_codec_rate(x, sr, codec_sr, code)


def at_codec_rate(x: np.ndarray, sr: int, codec_sr: int, code: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """`code` run on `x` resampled to `codec_sr`, resampled back: float32 of x's length.

    Earlier steps (EQ boosts, echo) can push peaks far above 1, which some encoders clip (mp2,
    libgsm) or limit (mp3, opus); this codes x / peak and restores the level. `code` gets a
    signal of at least one sample and returns one of the same length.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    n = len(x)
    if n == 0:
        return x.copy()
    scale = max(1.0, float(np.max(np.abs(x))))
    xc = resample(x / np.float32(scale), sr, codec_sr)
    if len(xc) == 0:  # a few input samples can resample to none; the codec still needs one
        xc = np.zeros(1, dtype=np.float32)
    y = resample(code(xc), codec_sr, sr)
    return fit_length(y, n) * np.float32(scale)


def pyav_encode(
    x: np.ndarray, sr: int, spec: CodecSpec, bit_rate: int, options: tuple[tuple[str, str], ...] = ()
) -> tuple[list[av.Packet], bytes | None]:
    """Encode `x` (mono float32 at the codec's rate `sr`) in process; returns the packets and extradata."""
    enc = av.CodecContext.create(spec.encoder, "w")
    offered = {f.name for f in enc.codec.audio_formats or ()}
    fmt = next((f for f in _INPUT_FORMATS if f in offered), "fltp")
    enc.sample_rate = sr
    enc.layout = "mono"
    enc.format = fmt
    enc.bit_rate = bit_rate
    enc.time_base = Fraction(1, sr)
    enc.options = dict(options)
    enc.open()

    frame_size = enc.frame_size or 1024
    padded = fit_length(x, -(-len(x) // frame_size) * frame_size)
    if fmt.startswith("s16"):
        samples = np.round(np.clip(padded, -1.0, 32767 / 32768) * 32768).astype(np.int16)
    else:
        samples = padded
    packets = []
    for start in range(0, len(samples), frame_size):
        frame = av.AudioFrame.from_ndarray(samples[None, start : start + frame_size], format=fmt, layout="mono")
        frame.sample_rate = sr
        frame.pts = start
        packets.extend(enc.encode(frame))
    packets.extend(enc.encode(None))
    return packets, enc.extradata


def _pyav_round_trip(
    x: np.ndarray,
    sr: int,
    spec: CodecSpec,
    bit_rate: int,
    options: tuple[tuple[str, str], ...],
    decoder_options: tuple[tuple[str, str], ...] = (),
) -> np.ndarray:
    packets, extradata = pyav_encode(x, sr, spec, bit_rate, options)
    dec, header = _pyav_decoder(spec, sr, bit_rate, extradata)
    if decoder_options:
        dec.options = dict(decoder_options)
    chunks: list[np.ndarray] = []
    origin = None
    try:
        for packet in [*packets, None]:
            for frame in dec.decode(packet):
                if origin is None:
                    origin = frame.pts if frame.pts is not None else packets[0].pts
                chunks.append(_to_float(frame.to_ndarray()))
    finally:
        if header is not None:
            header.close()
    if not chunks:
        raise RuntimeError(f"{spec.decoder} decoded no audio from {len(packets)} packets")
    y = np.concatenate(chunks)
    # Decoded sample k sits at time origin + k, so input time 0 is decoded sample -origin.
    return _shift(y, -int(origin or 0), len(x))


def _pyav_decoder(
    spec: CodecSpec, sr: int, bit_rate: int, extradata: bytes | None
) -> tuple[av.AudioCodecContext, av.container.InputContainer | None]:
    """A decoder that trims nothing, so samples can be placed by their timestamps.

    Returns it with the container it was read from, if any, to be closed after decoding.
    """
    header = None
    if spec.header_format is None:
        dec = av.CodecContext.create(spec.decoder, "r")
        dec.sample_rate = sr
        dec.layout = "mono"
        if extradata:
            dec.extradata = extradata
    else:
        # The muxer writes the stream parameters a fresh encoder with the same settings reports;
        # reading that header back yields a decoder configured with all of them.
        buf = io.BytesIO()
        with av.open(buf, "w", format=spec.header_format) as out:
            stream = out.add_stream(spec.encoder, rate=sr, layout="mono")
            stream.codec_context.bit_rate = bit_rate
            out.start_encoding()
        buf.seek(0)
        header = av.open(buf, "r")
        dec = header.streams.audio[0].codec_context
    dec.flags2 |= Flags2.skip_manual
    return dec, header


def _to_float(a: np.ndarray) -> np.ndarray:
    a = a.reshape(-1)
    if a.dtype == np.int16:
        return a.astype(np.float32) / 32768.0
    if a.dtype == np.int32:
        return (a.astype(np.float64) / 2**31).astype(np.float32)
    return a.astype(np.float32)


def _shift(y: np.ndarray, start: int, n: int) -> np.ndarray:
    """Samples start .. start + n of y, zero where y has none."""
    if start < 0:
        y = np.concatenate([np.zeros(-start, dtype=np.float32), y])
        start = 0
    return fit_length(y[start:], n)


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_commands(
    sr: int,
    spec: CodecSpec,
    bit_rate: int,
    options: tuple[tuple[str, str], ...] = (),
    decoder_options: tuple[tuple[str, str], ...] = (),
) -> tuple[list[str], list[str]]:
    """The encoding and decoding ffmpeg command lines (raw float32 -> Matroska -> raw float32).

    Built with ffmpeg-python, which spells the options (and quotes nothing: Popen gets a list).
    `_ffmpeg_round_trip` starts the processes itself: ffmpeg-python cannot pipe one into another.
    """
    import ffmpeg

    quiet = ("-nostdin", "-hide_banner", "-loglevel", "error")
    raw = {"format": "f32le", "ar": sr, "ac": 1}
    encoded = ffmpeg.input("pipe:0", **raw).output(
        "pipe:1", format="matroska", audio_bitrate=bit_rate, **{"c:a": spec.encoder}, **dict(options)
    )
    decoded = ffmpeg.input("pipe:0", format="matroska", **dict(decoder_options)).output("pipe:1", **raw)
    encode, decode = (stream.global_args(*quiet).compile(cmd=ffmpeg_exe()) for stream in (encoded, decoded))
    return encode, decode


def _ffmpeg_round_trip(
    x: np.ndarray,
    sr: int,
    spec: CodecSpec,
    bit_rate: int,
    options: tuple[tuple[str, str], ...],
    decoder_options: tuple[tuple[str, str], ...] = (),
) -> np.ndarray:
    """Encoder and decoder processes joined by a pipe, so their start-up and work overlap."""
    encode, decode = ffmpeg_commands(sr, spec, bit_rate, options, decoder_options)
    pipe = subprocess.PIPE
    encoder = subprocess.Popen(encode, stdin=pipe, stdout=pipe, stderr=pipe)
    decoder = subprocess.Popen(decode, stdin=encoder.stdout, stdout=pipe, stderr=pipe)
    encoder.stdout.close()  # the decoder holds the read end now
    encoder_log: list[bytes] = []
    feeder = threading.Thread(target=_feed, args=(encoder, x.astype("<f4").tobytes(), encoder_log), daemon=True)
    feeder.start()
    try:
        decoded, decoder_log = decoder.communicate(timeout=_TIMEOUT_S)
        encoder.wait(timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        for proc in (encoder, decoder):
            proc.kill()
            proc.wait()
        raise
    finally:
        feeder.join()
    for proc, messages in ((encoder, b"".join(encoder_log)), (decoder, decoder_log)):
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(proc.args)} exited {proc.returncode}: {messages.decode(errors='replace')[-500:]}"
            )
    return np.frombuffer(decoded, dtype="<f4").astype(np.float32)


_TIMEOUT_S = 60.0


def _feed(encoder: subprocess.Popen, data: bytes, messages: list[bytes]) -> None:
    """Write the raw input to the encoder, then collect what it logs.

    A refused write (the encoder quit early) shows up as the encoder's exit status.
    """
    try:
        encoder.stdin.write(data)
    except BrokenPipeError:
        log.debug("ffmpeg encoder closed its input early")
    finally:
        with contextlib.suppress(BrokenPipeError):
            encoder.stdin.close()
    messages.append(encoder.stderr.read())
    encoder.stderr.close()


class CodecTranscoding(Degradation):
    """Base of the codec round trips whose Params are (bitrate_kbps, codec_sr_hz).

    A subclass sets `spec` and either `strength_range` (any bitrate in it) or `modes_kbps` (the
    codec's fixed modes, which strength steps through), and gets its own Params type bound to
    them: the bitrate is checked against the range or the modes, the sample rate against the
    codec's rates, and `apply` runs the codec the params belong to.
    """

    strength_param = "bitrate_kbps"
    spec: ClassVar[CodecSpec]
    modes_kbps: ClassVar[tuple[float, ...]] = ()
    """The bitrates of a codec with fixed modes, mildest first; empty for any in strength_range."""

    @dataclass(frozen=True)
    class Params:
        """Bitrate and sample rate of one round trip. Each codec's subclass adds the class
        attributes `spec`, `bitrate_bounds` and `modes_kbps`, unannotated so they stay out of the fields."""

        bitrate_kbps: float
        """Requested bitrate; the codec's module says what its encoder makes of it."""
        codec_sr_hz: int
        """Sample rate the stream is encoded at."""

        def __post_init__(self) -> None:
            if self.modes_kbps:
                check_choice("bitrate_kbps", self.bitrate_kbps, self.modes_kbps)
            else:
                check_range("bitrate_kbps", self.bitrate_kbps, *self.bitrate_bounds)
            check_choice("codec_sr_hz", self.codec_sr_hz, self.spec.rates)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.encoders = (cls.spec.encoder,)
        if cls.modes_kbps:
            cls.strength_range = (cls.modes_kbps[0], cls.modes_kbps[-1])
        low, high = sorted(cls.strength_range)
        cls.Params = type(
            "Params",
            (CodecTranscoding.Params,),
            {
                "__module__": cls.__module__,
                "__qualname__": f"{cls.__qualname__}.Params",
                "__doc__": f"Parameters of one {cls.name} round trip.",
                "spec": cls.spec,
                "bitrate_bounds": (low, high),
                "modes_kbps": cls.modes_kbps,
            },
        )

    @classmethod
    def codec_sr_hz_for(cls, bitrate_kbps: float) -> int:
        """Sample rate to encode at: the codec's only rate, else 48 kHz unless a subclass needs a lower one."""
        return cls.spec.rates[0] if len(cls.spec.rates) == 1 else 48000

    @classmethod
    def sample_params(cls, rng: np.random.Generator, strength: float, ctx: SamplingContext | None) -> Any:
        if cls.modes_kbps:
            bitrate = cls.modes_kbps[round(lerp(0, len(cls.modes_kbps) - 1, strength))]
        else:
            bitrate = lerp(*cls.strength_range, strength)
        return cls.Params(bitrate_kbps=bitrate, codec_sr_hz=cls.codec_sr_hz_for(bitrate))

    @staticmethod
    def apply(x: np.ndarray, sr: int, params: Any) -> np.ndarray:
        return round_trip(x, sr, params.spec, params.bitrate_kbps, params.codec_sr_hz)
