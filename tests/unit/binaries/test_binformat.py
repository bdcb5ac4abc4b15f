"""binformat: real zig-built headers and crafted ones (universal Mach-O, PE i386/ARM64)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from binhelp import FIVE_TARGETS, Built

from shipit import binformat
from shipit.errors import BinaryFormatError

EXPECTED = {
    "x86_64-linux-gnu": ("elf", ("x86_64",)),
    "aarch64-linux-gnu": ("elf", ("aarch64",)),
    "x86_64-macos": ("macho", ("x86_64",)),
    "aarch64-macos": ("macho", ("aarch64",)),
    "x86_64-windows-gnu": ("pe", ("x86_64",)),
}


@pytest.mark.parametrize("target", FIVE_TARGETS)
def test_real_binaries_are_read_correctly(zig_built: Built, target: str) -> None:
    info = binformat.read(zig_built.binary(target))
    assert (info.format, info.archs) == EXPECTED[target]
    assert info.bits == 64
    assert binformat.mismatch(info, binformat.target_spec(target)) is None


def test_linux_binary_does_not_pass_for_another_arch(zig_built: Built) -> None:
    info = binformat.read(zig_built.binary("aarch64-linux-gnu"))
    why = binformat.mismatch(info, binformat.target_spec("x86_64-unknown-linux-gnu"))
    assert why is not None
    assert "aarch64" in why and "x86_64-unknown-linux-gnu" in why


def test_macos_binary_does_not_pass_for_linux(zig_built: Built) -> None:
    info = binformat.read(zig_built.binary("x86_64-macos"))
    why = binformat.mismatch(info, binformat.target_spec("linux/amd64"))
    assert why is not None and "Mach-O" in why and "ELF" in why


def _fat(slices: list[int], *, wide: bool = False) -> bytes:
    magic = 0xCAFEBABF if wide else 0xCAFEBABE
    head = struct.pack(">II", magic, len(slices))
    for i, cpu in enumerate(slices):
        offset = 0x4000 * (i + 1)
        if wide:
            head += struct.pack(">iiQQII", cpu, 3, offset, 0x1000, 14, 0)
        else:
            head += struct.pack(">iiIII", cpu, 3, offset, 0x1000, 14)
    return head + b"\0" * 64


def test_universal_macho_lists_its_slices() -> None:
    info = binformat.parse_header(_fat([0x01000007, 0x0100000C]))
    assert info.format == "macho" and info.universal
    assert info.archs == ("x86_64", "aarch64")
    assert binformat.mismatch(info, binformat.target_spec("universal-apple-darwin")) is None
    # a universal binary satisfies each of its single-arch targets too
    assert binformat.mismatch(info, binformat.target_spec("aarch64-apple-darwin")) is None


def test_universal_macho_64bit_offsets() -> None:
    info = binformat.parse_header(_fat([0x0100000C], wide=True))
    assert info.universal and info.archs == ("aarch64",)
    why = binformat.mismatch(info, binformat.target_spec("universal2-apple-darwin"))
    assert why is not None and "x86_64" in why


def test_universal_built_from_real_slices(zig_built: Built, tmp_path: Path) -> None:
    """A fat file assembled (like lipo does) from the two real zig-built macOS binaries."""
    parts = [zig_built.binary(t).read_bytes() for t in ("x86_64-macos", "aarch64-macos")]
    cpus = [struct.unpack_from("<i", p, 4)[0] for p in parts]
    offsets = [0x4000, 0x4000 + ((len(parts[0]) + 0x3FFF) // 0x4000) * 0x4000]
    head = struct.pack(">II", 0xCAFEBABE, 2)
    for cpu, off, part in zip(cpus, offsets, parts, strict=True):
        head += struct.pack(">iiIII", cpu, 0, off, len(part), 14)
    blob = bytearray(head.ljust(offsets[1] + len(parts[1]), b"\0"))
    blob[offsets[0] : offsets[0] + len(parts[0])] = parts[0]
    blob[offsets[1] : offsets[1] + len(parts[1])] = parts[1]
    path = tmp_path / "hello-universal"
    path.write_bytes(bytes(blob))
    info = binformat.read(path)
    assert info.universal and set(info.archs) == {"x86_64", "aarch64"}
    assert info.describe() == "universal Mach-O x86_64+aarch64"


def test_thin_macho_both_endians() -> None:
    le = struct.pack("<Iii", 0xFEEDFACF, 0x01000007, 3) + b"\0" * 20
    assert binformat.parse_header(le).archs == ("x86_64",)
    be32 = struct.pack(">Iii", 0xFEEDFACE, 18, 0) + b"\0" * 20
    info = binformat.parse_header(be32)
    assert info.format == "macho" and info.archs == ("ppc",) and info.bits == 32


def _pe(machine: int, opt_magic: int) -> bytes:
    dos = bytearray(b"MZ" + b"\0" * 0x7E)
    struct.pack_into("<I", dos, 0x3C, 0x80)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", machine, 3, 0, 0, 0, 0xF0, 0x22)
    return bytes(dos) + coff + struct.pack("<H", opt_magic) + b"\0" * 64


@pytest.mark.parametrize(
    ("machine", "magic", "arch", "bits"),
    [(0x8664, 0x20B, "x86_64", 64), (0xAA64, 0x20B, "aarch64", 64), (0x14C, 0x10B, "x86", 32)],
)
def test_pe_machine_field(machine: int, magic: int, arch: str, bits: int) -> None:
    info = binformat.parse_header(_pe(machine, magic))
    assert (info.format, info.archs, info.bits) == ("pe", (arch,), bits)


def test_pe_arm64_is_not_x64() -> None:
    info = binformat.parse_header(_pe(0xAA64, 0x20B))
    why = binformat.mismatch(info, binformat.target_spec("x86_64-pc-windows-msvc"))
    assert why is not None and "aarch64" in why


def test_elf_32bit_and_big_endian() -> None:
    elf32 = b"\x7fELF" + bytes([1, 1, 1]) + b"\0" * 11 + struct.pack("<H", 3) + b"\0" * 40
    assert binformat.parse_header(elf32).archs == ("x86",)
    elf_be = b"\x7fELF" + bytes([2, 2, 1]) + b"\0" * 11 + struct.pack(">H", 22) + b"\0" * 40
    assert binformat.parse_header(elf_be).archs == ("s390x",)
    ppc64le = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 11 + struct.pack("<H", 21) + b"\0" * 40
    assert binformat.parse_header(ppc64le).archs == ("ppc64le",)


def test_not_an_executable_is_named(tmp_path: Path) -> None:
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(BinaryFormatError) as err:
        binformat.read(script)
    assert "hello.sh" in err.value.what
    java = struct.pack(">IHH", 0xCAFEBABE, 0, 65) + b"\0" * 32
    with pytest.raises(ValueError, match="Java"):
        binformat.parse_header(java)


@pytest.mark.parametrize(
    ("target", "os", "fmt", "arch"),
    [
        ("x86_64-linux-gnu", "linux", "elf", "x86_64"),
        ("aarch64-linux-musl", "linux", "elf", "aarch64"),
        ("aarch64-macos", "macos", "macho", "aarch64"),
        ("x86_64-windows-gnu", "windows", "pe", "x86_64"),
        ("x86_64-unknown-linux-gnu", "linux", "elf", "x86_64"),
        ("aarch64-apple-darwin", "macos", "macho", "aarch64"),
        ("x86_64-pc-windows-msvc", "windows", "pe", "x86_64"),
        ("i686-pc-windows-msvc", "windows", "pe", "x86"),
        ("armv7-unknown-linux-gnueabihf", "linux", "elf", "arm"),
        ("linux/amd64", "linux", "elf", "x86_64"),
        ("darwin/arm64", "macos", "macho", "aarch64"),
        ("windows/386", "windows", "pe", "x86"),
        ("freebsd/amd64", "freebsd", "elf", "x86_64"),
    ],
)
def test_target_mapping_of_every_preset(target: str, os: str, fmt: str, arch: str) -> None:
    spec = binformat.target_spec(target)
    assert (spec.os, spec.format, spec.archs) == (os, fmt, (arch,))
    assert spec.ext == (".exe" if os == "windows" else "")


@pytest.mark.parametrize("bad", ["x86_64", "sparc-linux-gnu", "x86_64-plan9"])
def test_unknown_targets_are_config_errors(bad: str) -> None:
    with pytest.raises(BinaryFormatError) as err:
        binformat.target_spec(bad)
    assert bad in err.value.what
