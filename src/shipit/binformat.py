"""Read an executable's file format and CPU architecture from its header; map targets to them.

Supports ELF (``e_machine``), Mach-O (thin 32/64-bit in both byte orders, and universal/"fat"
files with one slice per architecture) and PE/COFF (the ``Machine`` field). Only the first few
kilobytes of a file are read. Build targets of every preset (zig ``x86_64-linux-gnu``, Rust/deno
``aarch64-apple-darwin``, Go ``linux/amd64``) map to the (format, architecture) a binary built for
them must have, so ``binaries:verify`` can catch a binary built for the wrong platform.
"""

from __future__ import annotations

import platform
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shipit.errors import BinaryFormatError, ErrorCode

Format = Literal["elf", "macho", "pe"]
OsName = Literal["linux", "macos", "windows", "freebsd", "netbsd", "openbsd", "android"]

FORMAT_NAMES: dict[str, str] = {"elf": "ELF", "macho": "Mach-O", "pe": "PE/COFF"}


@dataclass(frozen=True)
class BinaryInfo:
    """What a header says: format, the architectures inside (several for universal Mach-O)."""

    format: Format
    archs: tuple[str, ...]
    bits: int
    universal: bool = False

    def describe(self) -> str:
        kind = "universal " if self.universal else ""
        return f"{kind}{FORMAT_NAMES[self.format]} {'+'.join(self.archs)}"


@dataclass(frozen=True)
class TargetSpec:
    """What a binary built for a target must be."""

    target: str
    os: OsName
    format: Format
    archs: tuple[str, ...]  # every architecture required (2 for a universal macOS target)

    @property
    def ext(self) -> str:
        """The executable's file extension on this target's OS."""
        return ".exe" if self.os == "windows" else ""

    def describe(self) -> str:
        return f"{FORMAT_NAMES[self.format]} {'+'.join(self.archs)}"


# ------------------------------------------------------------------ header parsing

_ELF_MACHINES: dict[int, str] = {
    3: "x86",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390x",
    40: "arm",
    62: "x86_64",
    183: "aarch64",
    243: "riscv",
    258: "loongarch64",
}

_CPU_ARCH_ABI64 = 0x01000000
_CPU_ARCH_ABI64_32 = 0x02000000
_MACHO_CPUS: dict[int, str] = {
    7: "x86",
    7 | _CPU_ARCH_ABI64: "x86_64",
    12: "arm",
    12 | _CPU_ARCH_ABI64: "aarch64",
    12 | _CPU_ARCH_ABI64_32: "arm64_32",
    18: "ppc",
    18 | _CPU_ARCH_ABI64: "ppc64",
}

_PE_MACHINES: dict[int, str] = {
    0x014C: "x86",
    0x8664: "x86_64",
    0xAA64: "aarch64",
    0x01C0: "arm",
    0x01C4: "arm",
    0x5064: "riscv64",
}

_MH_MAGIC = 0xFEEDFACE
_MH_MAGIC_64 = 0xFEEDFACF
_FAT_MAGIC = 0xCAFEBABE
_FAT_MAGIC_64 = 0xCAFEBABF
_MAX_FAT_ARCHS = 30  # Java class files share 0xCAFEBABE; their "count" is a version >= 45


def _elf(head: bytes) -> BinaryInfo:
    if len(head) < 20:
        raise ValueError("truncated ELF header")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise ValueError(f"bad ELF class/data bytes {ei_class}/{ei_data}")
    order = "<" if ei_data == 1 else ">"
    (machine,) = struct.unpack_from(order + "H", head, 18)
    bits = 64 if ei_class == 2 else 32
    arch = _ELF_MACHINES.get(machine, f"elf-machine-{machine}")
    if arch == "riscv":
        arch = f"riscv{bits}"
    elif arch == "ppc64" and ei_data == 1:
        arch = "ppc64le"
    elif arch == "mips" and bits == 64:
        arch = "mips64"
    return BinaryInfo("elf", (arch,), bits)


def _macho_cpu(cputype: int) -> str:
    return _MACHO_CPUS.get(cputype, f"macho-cpu-{cputype:#x}")


def _macho(head: bytes) -> BinaryInfo:
    (magic_le,) = struct.unpack_from("<I", head, 0)
    (magic_be,) = struct.unpack_from(">I", head, 0)
    for order, magic in (("<", magic_le), (">", magic_be)):
        if magic in (_MH_MAGIC, _MH_MAGIC_64):
            (cputype,) = struct.unpack_from(order + "i", head, 4)
            bits = 64 if magic == _MH_MAGIC_64 else 32
            return BinaryInfo("macho", (_macho_cpu(cputype & 0xFFFFFFFF),), bits)
    # universal: always big-endian
    (count,) = struct.unpack_from(">I", head, 4)
    if count == 0 or count > _MAX_FAT_ARCHS:
        raise ValueError("not a universal Mach-O (a Java class file?)")
    entry = 32 if magic_be == _FAT_MAGIC_64 else 20
    if len(head) < 8 + count * entry:
        raise ValueError("truncated universal Mach-O header")
    archs: list[str] = []
    bits = 32
    for i in range(count):
        (cputype,) = struct.unpack_from(">I", head, 8 + i * entry)
        arch = _macho_cpu(cputype)
        if cputype & _CPU_ARCH_ABI64:
            bits = 64
        if arch not in archs:
            archs.append(arch)
    return BinaryInfo("macho", tuple(archs), bits, universal=True)


def _pe(head: bytes) -> BinaryInfo:
    if len(head) < 0x40:
        raise ValueError("truncated DOS header")
    (offset,) = struct.unpack_from("<I", head, 0x3C)
    if offset + 26 > len(head) or head[offset : offset + 4] != b"PE\0\0":
        raise ValueError("MZ file without a PE header (a DOS program?)")
    (machine,) = struct.unpack_from("<H", head, offset + 4)
    (opt_magic,) = struct.unpack_from("<H", head, offset + 24)
    bits = 64 if opt_magic == 0x20B else 32
    return BinaryInfo("pe", (_PE_MACHINES.get(machine, f"pe-machine-{machine:#06x}"),), bits)


def parse_header(head: bytes) -> BinaryInfo:
    """Format and architectures from the first bytes of a file (4 KiB is plenty)."""
    if len(head) < 8:
        raise ValueError("file too short to be an executable")
    if head[:4] == b"\x7fELF":
        return _elf(head)
    (magic_le,) = struct.unpack_from("<I", head, 0)
    (magic_be,) = struct.unpack_from(">I", head, 0)
    if _MH_MAGIC in (magic_le, magic_be) or _MH_MAGIC_64 in (magic_le, magic_be):
        return _macho(head)
    if magic_be in (_FAT_MAGIC, _FAT_MAGIC_64):
        return _macho(head)
    if head[:2] == b"MZ":
        return _pe(head)
    raise ValueError(f"unknown file format (starts with {head[:4].hex()})")


def read(path: Path, *, limit: int = 64 * 1024) -> BinaryInfo:
    """Read ``path``'s header. Raises BinaryFormatError naming the file when it is unreadable."""
    try:
        with path.open("rb") as fh:
            head = fh.read(limit)
    except OSError as exc:
        raise BinaryFormatError(f"cannot read {path}", why=str(exc)) from None
    return parse(head, name=path.name)


def parse(head: bytes, *, name: str) -> BinaryInfo:
    """``parse_header``, with a BinaryFormatError naming the file ``name`` for what is not an
    executable."""
    try:
        return parse_header(head)
    except (ValueError, struct.error) as exc:
        raise BinaryFormatError(
            f"{name} is not an executable shipit recognises",
            why=f"{exc}; expected ELF, Mach-O or PE/COFF",
            hint="check that the build command writes the executable to {output} in [binaries]",
        ) from None


# ------------------------------------------------------------------ targets

_ARCH_ALIASES: dict[str, str] = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "x64": "x86_64",
    "x86-64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "i386": "x86",
    "i486": "x86",
    "i586": "x86",
    "i686": "x86",
    "x86": "x86",
    "386": "x86",
    "arm": "arm",
    "armv6": "arm",
    "armv7": "arm",
    "armv7l": "arm",
    "thumbv7": "arm",
    "riscv64": "riscv64",
    "riscv64gc": "riscv64",
    "ppc64le": "ppc64le",
    "powerpc64le": "ppc64le",
    "ppc64": "ppc64",
    "powerpc64": "ppc64",
    "s390x": "s390x",
    "loongarch64": "loongarch64",
    "loong64": "loongarch64",
}

_OS_ALIASES: dict[str, OsName] = {
    "linux": "linux",
    "darwin": "macos",
    "macos": "macos",
    "macosx": "macos",
    "apple": "macos",
    "windows": "windows",
    "win32": "windows",
    "freebsd": "freebsd",
    "netbsd": "netbsd",
    "openbsd": "openbsd",
    "android": "android",
}

_FORMAT_OF_OS: dict[OsName, Format] = {
    "linux": "elf",
    "android": "elf",
    "freebsd": "elf",
    "netbsd": "elf",
    "openbsd": "elf",
    "macos": "macho",
    "windows": "pe",
}

_UNIVERSAL = ("universal", "universal2", "fat")


def _arch(word: str) -> str | None:
    word = word.lower()
    if word in _ARCH_ALIASES:
        return _ARCH_ALIASES[word]
    if word.startswith("armv7") or word.startswith("armv6"):
        return "arm"
    return None


def target_spec(target: str) -> TargetSpec:
    """Map a build target of any preset to the format and architecture it must produce.

    zig ``x86_64-linux-gnu``/``aarch64-macos``/``x86_64-windows-gnu``, Rust and deno
    ``x86_64-unknown-linux-gnu``/``aarch64-apple-darwin``/``x86_64-pc-windows-msvc``, Go
    ``linux/amd64``/``darwin/arm64``/``windows/amd64``, and ``universal-apple-darwin``.
    """
    text = target.strip()
    if "/" in text:  # Go: GOOS/GOARCH
        goos, _, goarch = text.partition("/")
        words = [goarch, goos]
    else:
        words = text.split("-")
    os_name: OsName | None = None
    for word in words[1:]:
        os_name = _OS_ALIASES.get(word.lower())
        if os_name:
            break
    if os_name is None:
        raise BinaryFormatError(
            f"cannot tell the operating system of target `{target}`",
            why="expected a triple like x86_64-linux-gnu, aarch64-apple-darwin or linux/amd64",
            hint="fix `targets` in [binaries]",
            code=ErrorCode.CONFIG_INVALID,
        )
    first = words[0].lower()
    if first in _UNIVERSAL:
        if os_name != "macos":
            raise BinaryFormatError(f"target `{target}`: universal binaries exist only for macOS")
        return TargetSpec(target, os_name, "macho", ("x86_64", "aarch64"))
    arch = _arch(first)
    if arch is None:
        raise BinaryFormatError(
            f"unknown CPU architecture `{words[0]}` in target `{target}`",
            why=f"known: {', '.join(sorted(set(_ARCH_ALIASES.values())))}",
            hint="fix `targets` in [binaries]",
            code=ErrorCode.CONFIG_INVALID,
        )
    return TargetSpec(target, os_name, _FORMAT_OF_OS[os_name], (arch,))


def host_spec() -> tuple[OsName | None, str | None]:
    """The running machine's OS and normalised architecture."""
    system = platform.system().lower()
    os_name = _OS_ALIASES.get(system)
    return os_name, _arch(platform.machine())


def runs_here(spec: TargetSpec) -> bool:
    """True when a binary for ``spec`` can run on this machine (same OS, same CPU)."""
    os_name, arch = host_spec()
    return spec.os == os_name and arch in spec.archs


def mismatch(info: BinaryInfo, spec: TargetSpec) -> str | None:
    """Why ``info`` does not fit ``spec`` (None when it does)."""
    if info.format != spec.format:
        return f"is {info.describe()}, but target `{spec.target}` needs {spec.describe()}"
    missing = [a for a in spec.archs if a not in info.archs]
    if missing:
        return (
            f"is {info.describe()}, but target `{spec.target}` needs {spec.describe()}"
            f" (no {'/'.join(missing)} code inside)"
        )
    return None
