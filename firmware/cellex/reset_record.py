# cellex.reset_record: a failure record that survives a reset (issue 16).
# MIT licence.
#
# Four words of 30 bits (every value stays a small int on a 32-bit board, so
# reading and writing them allocates nothing), kept in memory that a reset
# does not clear, behind one small interface per board (a "store": read(i),
# write(i, value) for i in 0..3, flush()):
#
#   Rp2ScratchStore      RP2040 watchdog SCRATCH0-3 (the boot ROM and
#                        pico-sdk's watchdog_reboot() use SCRATCH4-7; the rp2
#                        port and the rest of pico-sdk use none of them)
#   Stm32BackupStore     STM32F4 RTC backup registers (untested on hardware)
#   FileStore            a 16-byte file (the virtual board; any board with a
#                        filesystem, at the cost of a flash write per record)
#   MemoryStore          a list (tests)
#
# Layout (docs/wire-format.md, "Boot frame", carries the same fields):
#
#   w0  [29:24] magic 0b101101  [23:16] CRC-8 of w0[15:0], w2, w3  [15:0] boot count
#   w1  running actor: [23:12] id ^ 0xFFF, [11:0] id (0: none) -- checked by
#       its complement, not by the CRC, so the per-dispatch write is one store
#   w2  [29] a failure is recorded  [28:21] actor id (0..255, 255: above)
#       [20:15] error index (error_index(): wire code + 1, 0 other)
#       [14:11] stage (15: 15 or more)
#       [10:0] low 11 bits of the root's failure sequence number
#   w3  uptime in ms at the failure (saturates at 2**30 - 1, ~12 days)
#
# A cold power-on leaves the registers at 0 (no magic): not valid. The CRC
# catches a half-written record (a reset between two stores).
from cellex.compat import MICROPYTHON, const, micropython
from cellex.wire import U30 as _WORD_MASK
from cellex.wire import error_code, error_names

_MAGIC = const(0x2D)  # 0b101101

# Native code reads these from plain globals, never as literals: the native
# emitter for ARMv6-M (Cortex-M0+, RP2040) loads an int of 2**15 or more
# (tagged, above 16 bits) from a literal word placed in the code, with a
# PC-relative load that assumes the code starts 4-byte aligned. Frozen into
# the firmware (mpy-tool aligns ARMv6-M code to 2 only) the load can read
# the wrong halfwords: on the chip `x > 0x1FFFFF` was always true and
# `& 0x3FFFFFFF` gave garbage, depending on where the linker put the code.
# A global lookup allocates nothing.
_LOW16 = 0xFFFF
_MAGIC_W0 = _MAGIC << 24
_FAILURE_BIT = 1 << 29

# A record names the error by its wire code (cellex.wire's well-known names,
# wire-format §4) + 1; 0: any other class.
@micropython.native
def error_index(error):
    """The record's index of `error`'s class: its wire code + 1 (0: not a well-known name).
    Allocates nothing."""
    return error_code(error.__class__.__name__) + 1


def error_name(index):
    """The class name a record's error index stands for ("" for 0: another class)."""
    names = error_names()
    return names[index - 1] if 0 < index <= len(names) else ""


@micropython.native
def _crc8_byte(crc, byte):
    # CRC-8, polynomial 0x07 (CRC-8/SMBUS), bit by bit: small ints only.
    # (while, not for-range: a range object is a heap block)
    crc ^= byte
    n = 8
    while n:
        if crc & 0x80:
            crc = ((crc << 1) ^ 0x07) & 0xFF
        else:
            crc = (crc << 1) & 0xFF
        n -= 1
    return crc


@micropython.native
def _crc8_word(crc, w):
    crc = _crc8_byte(crc, w & 0xFF)
    crc = _crc8_byte(crc, (w >> 8) & 0xFF)
    crc = _crc8_byte(crc, (w >> 16) & 0xFF)
    return _crc8_byte(crc, (w >> 24) & 0xFF)


@micropython.native
def crc8_words(w0, w2, w3):
    """CRC-8/SMBUS of w0[15:0] (2 bytes), w2, w3 (4 bytes each, little-endian)."""
    crc = _crc8_byte(0, w0 & 0xFF)
    crc = _crc8_byte(crc, (w0 >> 8) & 0xFF)
    return _crc8_word(_crc8_word(crc, w2), w3)


@micropython.native
def running_word(actor_id):
    """w1 for `actor_id` (0: none): the id and its complement. (The scheduler computes
    the same inline: cellex.scheduler.)"""
    actor_id &= 0xFFF
    return actor_id | ((actor_id ^ 0xFFF) << 12)


class ResetRecord:
    """The record in a store. boot() once at start; record_failure() before a reset.

    After boot(): `valid` (a record was there), `boot_count` (boots counted
    while the record stayed valid, this one included; 1 after a cold start),
    and, when `has_failure`, the last root failure before the reset:
    `actor_id`, `error_index` (error_name()), `stage`, `sequence` (low 11
    bits), `uptime_ms`; `running_id`: the actor that was in receive() when
    the board reset (0: none, or not tracked).
    record_failure() and set_running() allocate nothing.
    """

    def __init__(self, store):
        self.store = store
        self.valid = False
        self.boot_count = 0
        self.has_failure = False
        self.actor_id = 0
        self.error_index = 0
        self.stage = 0
        self.sequence = 0
        self.uptime_ms = 0
        self.running_id = 0
        self._boots = 0  # this boot's count, as written
        # Where w1 lives: slot[key] = word is one store (see running_slot()).
        self._slot, self._key = store.running_slot()

    def read(self):
        """Decode the store into the attributes (no writes). Returns `valid`."""
        s = self.store
        w0 = s.read(0)
        w1 = s.read(1)
        w2 = s.read(2)
        w3 = s.read(3)
        self.valid = ((w0 >> 24) & 0x3F) == _MAGIC and ((w0 >> 16) & 0xFF) == crc8_words(w0, w2, w3)
        if not self.valid:
            self.boot_count = 0
            self.has_failure = False
            self.actor_id = self.error_index = self.stage = self.sequence = self.uptime_ms = 0
            self.running_id = 0
            return False
        self.boot_count = w0 & 0xFFFF
        self.has_failure = bool((w2 >> 29) & 1)
        self.actor_id = (w2 >> 21) & 0xFF
        self.error_index = (w2 >> 15) & 0x3F
        self.stage = (w2 >> 11) & 0xF
        self.sequence = w2 & 0x7FF
        self.uptime_ms = w3 & _WORD_MASK
        rid = w1 & 0xFFF
        self.running_id = rid if ((w1 >> 12) & 0xFFF) == (rid ^ 0xFFF) else 0
        return True

    def boot(self):
        """At start: read what the last run left, then start this run's record.

        The new record keeps no failure and no running actor, and counts
        this boot (boot_count + 1, or 1 after a cold start). Returns `valid`.
        """
        valid = self.read()
        boots = (self.boot_count + 1) & 0xFFFF if valid else 1
        self._boots = boots
        self._write(boots, 0, 0)
        self.set_running(0)
        self.store.flush()
        return valid

    @micropython.native
    def record_failure(self, actor_id, error, stage, sequence, uptime_ms):
        """Keep one root failure (the last one wins). Allocates nothing."""
        if actor_id > 255 or actor_id < 0:
            actor_id = 255
        if stage > 15:
            stage = 15
        mask = _WORD_MASK
        if uptime_ms < 0 or uptime_ms > mask:
            uptime_ms = mask
        w2 = _FAILURE_BIT | (actor_id << 21) | (error_index(error) << 15) | (stage << 11) | (sequence & 0x7FF)
        self._write(self._boots, w2, uptime_ms)
        self.store.flush()

    @micropython.native
    def set_running(self, actor_id):
        """The actor now in receive() (0: none). One store; allocates nothing.

        The scheduler does the same inline before each message when a watchdog
        is configured (ActorSystemConfig.with_watchdog), through running_slot().
        """
        self._slot[self._key] = running_word(actor_id)

    def running_slot(self):
        """(slot, key): `slot[key] = running_word(id)` keeps the running actor (w1), at
        once where the store is memory that survives a reset, written through to a file
        for a FileStore. Allocates nothing."""
        return self._slot, self._key

    def clear(self):
        """Invalidate the record (as a cold power-on leaves it)."""
        s = self.store
        s.write(0, 0)
        s.write(1, 0)
        s.write(2, 0)
        s.write(3, 0)
        s.flush()

    @micropython.native
    def _write(self, boots, w2, w3):
        s = self.store
        w0 = boots & _LOW16
        # w0 last: a reset between the stores leaves a CRC that does not match.
        s.write(2, w2)
        s.write(3, w3)
        s.write(0, _MAGIC_W0 | (crc8_words(w0, w2, w3) << 16) | w0)


class MemoryStore:
    """Four words in a list: tests, and boards without anything better (lost at reset)."""

    def __init__(self, words=None):
        self.words = [0, 0, 0, 0] if words is None else words

    @micropython.native
    def read(self, i):
        return self.words[i]

    @micropython.native
    def write(self, i, value):
        self.words[i] = value

    @micropython.native
    def flush(self):
        pass

    def running_slot(self):
        """(words, 1): the running-actor word is words[1]."""
        return self.words, 1


# RP2040: WATCHDOG_BASE 0x40058000, SCRATCH0 at +0x0c (SCRATCH0-3: 0x0c..0x18).
RP2_SCRATCH0 = const(0x4005800C)


class _Mem32Store:
    """Four words in consecutive 32-bit registers from `base` (machine.mem32)."""

    def __init__(self, base):
        import machine

        self._mem32 = machine.mem32  # pyright: ignore[reportAttributeAccessIssue]
        # The four addresses, made once: above 2**30 they are big ints on a
        # 32-bit board, so `base + 4 * i` would allocate one at every access.
        self._addr = tuple(base + 4 * i for i in range(4))

    @micropython.native
    def read(self, i):
        return self._mem32[self._addr[i]] & _WORD_MASK

    @micropython.native
    def write(self, i, value):
        self._mem32[self._addr[i]] = value

    @micropython.native
    def flush(self):
        pass

    def running_slot(self):
        """(machine.mem32, address of word 1): one register store."""
        return self._mem32, self._addr[1]


class Rp2ScratchStore(_Mem32Store):
    """RP2040 watchdog SCRATCH0-3: kept by a watchdog reset (machine.reset(), WDT),
    cleared by a power-on or a RUN-pin reset."""

    def __init__(self, base=RP2_SCRATCH0):
        super().__init__(base)


# STM32F4: RTC_BKP0R at RTC base 0x40002800 + 0x50 (20 registers). cellex takes
# BKP4R-BKP7R. Writes need the backup domain unlocked: PWR_CR.DBP (PWR
# 0x40007000, bit 8), with the PWR clock on (RCC_APB1ENR 0x40023840, bit 28).
# UNTESTED: no STM32 board or emulator here; check your port's rtc.c does not
# use these registers.
STM32F4_BKP4R = const(0x40002860)


class Stm32BackupStore(_Mem32Store):
    """STM32F4 RTC backup registers BKP4R-BKP7R (kept across every reset while VBAT
    or VDD stays up). Untested on hardware."""

    def __init__(self, base=STM32F4_BKP4R, rcc_apb1enr=0x40023840, pwr_cr=0x40007000):
        super().__init__(base)
        mem32 = self._mem32
        mem32[rcc_apb1enr] |= 1 << 28
        mem32[pwr_cr] |= 1 << 8


_BUFFERED = not MICROPYTHON  # CPython's files buffer writes


class FileStore:
    """Four words in a 16-byte file (little-endian), written through at flush().

    The file is opened once (unbuffered); write() changes a preallocated
    buffer and flush() writes it whole, allocating nothing.
    """

    def __init__(self, path):
        self._buf = bytearray(16)
        try:
            f = open(path, "r+b")
        except OSError:
            f = open(path, "w+b")
            f.write(self._buf)
        f.seek(0)
        data = f.read(16)
        if data is not None and len(data) == 16:
            self._buf[:] = data
        self._file = f
        self._dirty = False
        self._w1 = memoryview(self._buf)[4:8]  # word 1, written through by __setitem__

    @micropython.native
    def read(self, i):
        b = self._buf
        j = 4 * i
        return (b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24)) & _WORD_MASK

    @micropython.native
    def write(self, i, value):
        b = self._buf
        j = 4 * i
        b[j] = value & 0xFF
        b[j + 1] = (value >> 8) & 0xFF
        b[j + 2] = (value >> 16) & 0xFF
        b[j + 3] = (value >> 24) & 0xFF
        self._dirty = True

    @micropython.native
    def flush(self):
        if self._dirty:
            f = self._file
            f.seek(0)
            f.write(self._buf)
            f.flush()
            self._dirty = False

    @micropython.native
    def __setitem__(self, i, value):
        # store[i] = value: write(i, value), and word 1 (the running actor, a
        # store per dispatch) straight to the file without rewriting the rest.
        self.write(i, value)
        if i == 1:
            f = self._file
            f.seek(4)
            f.write(self._w1)
            if _BUFFERED:
                f.flush()  # to the OS, where a killed process leaves it (MicroPython's
                # unbuffered file is there already; its flush() is an fsync)
        else:
            self.flush()

    def running_slot(self):
        """(self, 1): `store[1] = word` writes the word through to the file, so it is
        there when the process is killed (the virtual board's watchdog)."""
        return self, 1

    def close(self):
        self.flush()
        self._file.close()


def board_store(path="cellex_reset.bin"):
    """The store this board has: scratch registers on rp2, backup registers on
    stm32, else a file at `path`."""
    import sys

    platform = sys.platform
    if platform == "rp2":
        return Rp2ScratchStore()
    if platform == "pyboard":
        return Stm32BackupStore()
    return FileStore(path)
