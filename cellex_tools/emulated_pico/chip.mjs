// The RP2040 chip of the emulated Pico: rp2040js 1.4.1 with what MicroPython needs added on its
// objects (the package itself is used as it comes, never edited):
//   (a) USB CDC: an OUT transfer is held until the host has data (the package completes it at once
//       with zero bytes, so the CPU never sleeps); device-mode start-of-frame interrupts;
//   (b) UART: a 32-byte TX FIFO drained at the programmed baud rate, TX interrupt on the PL011's
//       level crossing (the package raises TX on every register access and sends bytes instantly);
//   (c) flash: the boot ROM's flash functions are carried out on the flash array (the package's SSI
//       only serves XIP reads, so the firmware would find no filesystem);
//   (d) watchdog reset: the chip reports it (resetPending) and hands over SCRATCH0-7, REASON and the
//       SRAM (not cleared by a reset on the chip; the firmware's startup code zeroes its .bss) to a
//       new Chip on the same flash (the package only calls a hook, and its RP2040.reset() would
//       even erase the flash).
// Time is the core's cycle count at 125 MHz (CycleClock); fastcore.mjs runs the instructions.
import { RP2040, USBCDC } from 'rp2040js';
import { makeFastRun } from './fastcore.mjs';

export const FLASH_XIP = 0x10000000;
export const FLASH_SIZE = 2 * 1024 * 1024; // a Pico's W25Q16; the firmware's filesystem lives inside it
export const CLK_HZ = 125e6;
// boot ROM functions run by the emulator (c): connect, exit XIP, erase, program, flush cache, enter XIP
const ROM_HOOKS = ['IF', 'EX', 'RE', 'RP', 'FC', 'CX'];
const WATCHDOG = 0x40058;

/** A new flash array: rp2040js maps 16 MB at 0x10000000; it outlives the chips of one board. */
export function newFlash() {
  return new Uint8Array(16 * 1024 * 1024).fill(0xff);
}

// ---------------------------------------------------------------- (c) boot ROM flash functions
// Each ROM function named in the ROM's function table is replaced by a BKPT whose number says which;
// the break handler does the work on the flash array and returns to the caller (PC = LR).

export function patchBootrom(file) {
  const rom = new Uint8Array(file); // a copy at offset 0 of its own buffer
  const view = new DataView(rom.buffer);
  const table = view.getUint16(0x14, true); // the ROM's function table: (code, address) pairs
  for (let p = table; view.getUint16(p, true); p += 4) {
    const code = view.getUint16(p, true);
    const index = ROM_HOOKS.indexOf(String.fromCharCode(code & 0xff, code >> 8));
    if (index >= 0) view.setUint16(view.getUint16(p + 2, true) & ~1, 0xbe00 | index, true); // BKPT #index
  }
  return new Uint32Array(rom.buffer);
}

function onBreak(chip, index) {
  const { mcu, flash, stats } = chip;
  const core = mcu.core;
  const r = core.registers;
  switch (ROM_HOOKS[index]) {
    case 'RE': { // flash_range_erase(addr, count, block_size, block_cmd)
      const [addr, count] = [r[0] >>> 0, r[1] >>> 0];
      if (addr + count <= FLASH_SIZE) flash.fill(0xff, addr, addr + count);
      stats.flashErases++;
      break;
    }
    case 'RP': { // flash_range_program(addr, data, count): programming can only clear bits
      const [addr, data, count] = [r[0] >>> 0, r[1] >>> 0, r[2] >>> 0];
      for (let i = 0; i < count && addr + i < FLASH_SIZE; i++) flash[addr + i] &= mcu.readUint8(data + i);
      stats.flashPrograms++;
      break;
    }
    case undefined: // a BKPT in the firmware (a panic): say so once; the core goes on
      mcu.logger.warn('core', `BKPT #${index} at 0x${((core.PC - 2) >>> 0).toString(16)}`);
      return;
    default: // connect / exit XIP / flush cache / enter XIP: nothing to do, XIP reads always work here
  }
  core.PC = core.LR & ~1;
}

// ---------------------------------------------------------------- the clock
// Time = cycles executed * 8 ns. rp2040js's Simulator ticks its clock once per instruction; here
// time is read off the core's cycle counter instead, and the run loop only stops at the cycle the
// next alarm is due (deadline), so an instruction costs two comparisons more. Same interface as the
// package's SimulationClock (not exported): nanos, createAlarm() -> schedule(ns) / cancel().
class Alarm {
  constructor(clock, callback) {
    this.clock = clock;
    this.callback = callback;
    this.nanos = 0;
    this.scheduled = false;
  }
  schedule(deltaNanos) {
    this.cancel();
    this.clock.link(this, this.clock.nanos + deltaNanos);
  }
  cancel() {
    if (this.scheduled) this.clock.unlink(this);
  }
}

export class CycleClock {
  constructor(core) {
    this.core = core;
    this.alarms = []; // scheduled alarms, soonest first (a handful at most)
    this.nanosBase = 0;
    this.cyclesBase = 0;
    this.deadline = Infinity; // core.cycles at which the next alarm is due
    this.halted = false;
  }
  get nanos() {
    return this.nanosBase + (this.core.cycles - this.cyclesBase) * (1e9 / CLK_HZ);
  }
  get micros() {
    return this.nanos / 1000;
  }
  createAlarm(callback) {
    return new Alarm(this, callback);
  }
  link(alarm, nanos) {
    alarm.nanos = nanos;
    alarm.scheduled = true;
    let i = this.alarms.length;
    while (i > 0 && this.alarms[i - 1].nanos > nanos) i--;
    this.alarms.splice(i, 0, alarm);
    if (i === 0) this.updateDeadline();
  }
  unlink(alarm) {
    const i = this.alarms.indexOf(alarm);
    alarm.scheduled = false;
    if (i >= 0) this.alarms.splice(i, 1);
    if (i === 0) this.updateDeadline();
  }
  get nextAlarmNanos() {
    return this.alarms.length ? this.alarms[0].nanos : Infinity;
  }
  /** Stops the run loop at once, for good (a watchdog reset: this chip is done). */
  halt() {
    this.halted = true;
    this.deadline = -1;
  }
  updateDeadline() {
    const next = this.nextAlarmNanos;
    const now = this.nanos;
    this.deadline = this.halted ? -1 : next === Infinity ? Infinity
      : this.core.cycles + Math.max(0, Math.ceil((next - now) * CLK_HZ / 1e9));
  }
  /** Advances time by deltaNanos (0: to the current cycle), firing the alarms due on the way. */
  tick(deltaNanos = 0) {
    const target = this.nanos + deltaNanos;
    while (!this.halted && this.alarms.length && this.alarms[0].nanos <= target + 0.5) { // 0.5: float rounding
      const a = this.alarms.shift();
      a.scheduled = false;
      this.rebase(Math.max(this.nanos, a.nanos));
      a.callback();
    }
    this.rebase(target);
    this.updateDeadline();
  }
  rebase(nanos) {
    this.nanosBase = nanos;
    this.cyclesBase = this.core.cycles;
  }
}

// ---------------------------------------------------------------- (b) UART with a TX FIFO
// The PL011's 32-byte TX FIFO, drained one character time (start, data, parity, stop bits at the
// programmed baud rate) after another; TXINTR is raised when the level passes down through the
// trigger level (IFLS), as the PL011 does, and cleared by ICR or by filling above it.
const UARTDR = 0x0, UARTFR = 0x18, UARTLCR_H = 0x2c, UARTIFLS = 0x34, UARTIMSC = 0x38;
const FR_BUSY = 1 << 3, FR_RXFE = 1 << 4, FR_TXFF = 1 << 5, FR_RXFF = 1 << 6, FR_TXFE = 1 << 7;
const TXINTR = 1 << 5;

function modelUart(uart, clock, emit, refill) {
  const fifo = [];
  let shifting = false; // a character is in the shift register
  let ifls = 0x12; // reset value: both trigger levels at 1/2
  const depth = () => (uart.fifosEnabled ? 32 : 1);
  const trigger = () => [4, 8, 16, 24, 28][Math.min(ifls & 7, 4)];
  const charNanos = () => {
    const lcr = uart.lineCtrlRegister;
    const bits = 1 + uart.wordLength + (lcr & 2 ? 1 : 0) + (lcr & 8 ? 2 : 1); // start, data, parity, stop
    const baud = uart.baudDivider ? uart.baudRate : 115200;
    return bits * 1e9 / baud;
  };
  const alarm = clock.createAlarm(() => {
    emit(uart.shiftRegister);
    shifting = false;
    startNext();
  });
  function startNext() {
    if (shifting || !fifo.length) return;
    const before = fifo.length;
    uart.shiftRegister = fifo.shift();
    shifting = true;
    alarm.schedule(charNanos());
    // the PL011 raises TXINTR when the FIFO level passes down through the trigger level
    if (uart.fifosEnabled ? before > trigger() && fifo.length <= trigger() : true) {
      uart.interruptStatus |= TXINTR;
      uart.checkInterrupts();
    }
  }
  Object.defineProperty(uart, 'flags', {
    get() {
      return (uart.rxFIFO.full ? FR_RXFF : 0) | (uart.rxFIFO.empty ? FR_RXFE : 0) |
        (fifo.length >= depth() ? FR_TXFF : 0) | (fifo.length ? 0 : FR_TXFE) | (shifting || fifo.length ? FR_BUSY : 0);
    },
  });
  uart.checkInterrupts = function () { // the package's version sets TXINTR on every call
    this.rp2040.setInterrupt(this.irq, !!(this.interruptStatus & this.interruptMask));
  };
  const read = uart.readUint32.bind(uart);
  uart.readUint32 = (offset) => {
    if (offset === UARTIFLS) return ifls;
    const value = read(offset);
    if (offset === UARTDR) refill(); // room in the RX FIFO: the host's next bytes
    return value;
  };
  const write = uart.writeUint32.bind(uart);
  uart.writeUint32 = (offset, value) => {
    if (offset === UARTDR) {
      if (fifo.length < depth()) fifo.push(value & 0xff); // a full FIFO drops the byte, as the PL011 does
      if (!uart.fifosEnabled || fifo.length > trigger()) uart.interruptStatus &= ~TXINTR;
      startNext();
      uart.checkInterrupts();
    } else if (offset === UARTIFLS) {
      ifls = value & 0x3f;
    } else if (offset === UARTLCR_H && !(value & 0x10)) {
      fifo.length = Math.min(fifo.length, 1); // FIFOs switched off
      write(offset, value);
    } else {
      write(offset, value);
      if (offset === UARTIMSC) uart.checkInterrupts();
    }
  };
}

// ---------------------------------------------------------------- USB start-of-frame
// A USB host sends a SOF every 1 ms; rp2040js sends none in device mode. MicroPython counts 16 SOFs
// after the host raises DTR before it sends what it printed meanwhile (the banner), so without them
// the first output waits for the first input. SOFs are sent only while the firmware has their
// interrupt enabled (it turns it off again), so an idle board is not woken every millisecond.
const USB_SOF_RD = 0x48, USB_INTE = 0x90, INTR_DEV_SOF = 1 << 17;

function modelSof(usb, clock) {
  const sof = clock.createAlarm(() => {
    if (!(usb.intEnable & INTR_DEV_SOF)) return;
    usb.sofFrameNumber = (usb.sofFrameNumber + 1) & 0x7ff;
    usb.intRaw |= INTR_DEV_SOF;
    usb.checkInterrupts();
    sof.schedule(1e6);
  });
  const read = usb.readUint32.bind(usb);
  usb.readUint32 = (offset) => {
    if (offset === USB_SOF_RD) { // reading the frame number clears DEV_SOF, as on the chip
      usb.intRaw &= ~INTR_DEV_SOF;
      usb.checkInterrupts();
    }
    return read(offset);
  };
  const write = usb.writeUint32.bind(usb);
  usb.writeUint32 = (offset, value) => {
    write(offset, value);
    if (offset === USB_INTE && usb.intEnable & INTR_DEV_SOF && !sof.scheduled) sof.schedule(1e6);
  };
}

// ---------------------------------------------------------------- a chip
/**
 * One RP2040 booting the firmware in `flash`.
 *   bootrom:  patchBootrom(file)
 *   host:     { console(bytes), telemetry(byte), takeConsole(max) -> Uint8Array, takeUart() -> byte | undefined,
 *               usb() (enumerated), repl() (the REPL's first prompt since this chip booted) }
 *   handover: { scratch, reason, sram } from the previous chip (watchdog reset), or null at power-on
 *   fast:     run instructions with fastcore.mjs (false: the package's own executeInstruction)
 */
export class Chip {
  constructor({ bootrom, flash, host, logger, stats, handover = null, fast = true }) {
    this.flash = flash;
    this.stats = stats;
    this.host = host;
    this.resetPending = false;
    this.pendingRead = null; // (a) the OUT transfer the firmware is waiting on
    const clock = new CycleClock({ cycles: 0 }); // the core is made inside RP2040()
    const mcu = new RP2040(clock);
    clock.core = mcu.core;
    this.mcu = mcu;
    this.clock = clock;
    this.core = mcu.core;
    mcu.logger = logger;
    mcu.loadBootrom(bootrom); // also resets the core (SP from the ROM) and erases rp2040js's own flash
    mcu.flash = flash; // ...so the chip gets the board's
    mcu.flash16 = new Uint16Array(flash.buffer);
    mcu.flashView = new DataView(flash.buffer);
    mcu.onBreak = (code) => onBreak(this, code);
    const wd = mcu.peripherals[WATCHDOG];
    if (handover) { // SCRATCH0-7, REASON and the SRAM's contents survive a watchdog reset on the chip
      wd.scratchData.set(handover.scratch);
      wd.reason = handover.reason;
      mcu.sram.set(handover.sram);
    }
    wd.onWatchdogTrigger = () => {
      this.resetPending = true;
      clock.halt();
      // the watchdog's timer would fire again at once, for ever (its alarm re-arms at a count of 0)
      wd.alarm.enable = false;
      wd.timer.enable = false;
    };
    modelUart(mcu.uart[0], clock, (byte) => host.telemetry(byte), () => this.uartInput());
    modelUart(mcu.uart[1], clock, () => {}, () => {});
    modelSof(mcu.usbCtrl, clock);
    const cdc = new USBCDC(mcu.usbCtrl);
    let tail = ''; // output since boot, until the REPL's first prompt
    cdc.onSerialData = (data) => {
      host.console(data);
      if (tail === null) return;
      tail = (tail + Buffer.from(data).toString('latin1')).slice(-16);
      if (tail.endsWith('>>> ') || tail.endsWith('>')) {
        tail = null;
        host.repl();
      }
    };
    mcu.usbCtrl.onEndpointRead = (endpoint, size) => { // (a)
      if (endpoint !== cdc.outEndpoint) return;
      this.pendingRead = { endpoint, size };
      this.consoleInput();
    };
    cdc.onDeviceConnected = () => host.usb?.(); // enumerated, DTR raised: the port is open
    this.cdc = cdc;
    // run(budget): instructions until the budget is spent, the next alarm is due or the core sleeps
    this.run = fast ? makeFastRun(mcu) : (budget) => {
      const core = mcu.core;
      let done = 0;
      for (; done < budget && core.cycles < clock.deadline && !core.waiting; done++) core.executeInstruction();
      return done;
    };
    // Boot: run boot2 from flash (it sets up XIP and jumps to the firmware's vector table). The ROM's
    // own flash boot needs an SSI that answers SPI reads, which rp2040js does not model.
    mcu.core.PC = FLASH_XIP;
  }

  /** The host has console bytes: complete the held OUT transfer with them. */
  consoleInput() {
    const p = this.pendingRead;
    if (!p) return;
    const data = this.host.takeConsole(p.size);
    if (!data.length) return;
    this.pendingRead = null;
    this.mcu.usbCtrl.endpointReadDone(p.endpoint, data);
  }

  /** The host has UART0 bytes: fill the RX FIFO (again when the firmware reads DR). */
  uartInput() {
    const uart = this.mcu.uart[0];
    let byte;
    while (!uart.rxFIFO.full && (byte = this.host.takeUart()) !== undefined) uart.feedByte(byte);
  }

  /** What a watchdog reset hands to the next chip. */
  handover() {
    const wd = this.mcu.peripherals[WATCHDOG];
    return { scratch: Uint32Array.from(wd.scratchData), reason: wd.reason, sram: Uint8Array.from(this.mcu.sram) };
  }
}
