// Runs RPI_PICO MicroPython firmware on the rp2040js RP2040 emulator, as a board the host can talk to.
//
//   node run.mjs --firmware firmware.bin --bootrom rp2040-bootrom-b1.bin \
//                [--console-fd R,W] [--telemetry-fd R,W] [--flash IMAGE]
//
// The console fds carry the USB-CDC REPL, the telemetry fds UART0 (TX out, RX in); tools/emulated_board.py
// passes pty masters here (Node cannot open a pty itself). Without fds the console is stdin/stdout.
// stdout carries one JSON object a line when fds are given (events: up, reset, stats; the launcher reads them);
// stdin lines are commands: "stats" prints counters; end of stdin stops the board.
//
// rp2040js 1.4.1 is used as it comes; what it lacks for MicroPython is added here, on its objects:
//   (a) USB CDC: an OUT transfer is held until the host sends data (the package completes it at once
//       with zero bytes, so the CPU never sleeps);
//   (b) UART: a 32-byte TX FIFO drained at the programmed baud rate, TX interrupt on the PL011's
//       level crossing (the package raises TX on every register access and sends bytes instantly);
//   (c) flash: the boot ROM's flash functions are carried out on the flash array (the SSI model only
//       serves XIP reads), so littlefs can be formatted and written;
//   (d) watchdog reset (machine.reset(), WDT): a new chip with the same flash, watchdog SCRATCH0-7 and
//       REASON (the package only calls a hook; its RP2040.reset() would even erase the flash).
// Time: the simulated clock is counted in CPU cycles at 125 MHz; while the core sleeps (WFI/WFE) it
// follows the wall clock, never running more than SLACK_NS ahead of it.
import fs from 'node:fs';
import tty from 'node:tty';
import readline from 'node:readline';
import { RP2040, USBCDC, LogLevel } from 'rp2040js';

const FLASH_XIP = 0x10000000;
const FLASH_SIZE = 2 * 1024 * 1024; // a Pico's W25Q16; the firmware's filesystem lives inside it
const CLK_HZ = 125e6;
const SLACK_NS = 2e6; // a sleeping core may jump this far ahead of the wall clock (timers are ~1 ms coarse)
const SLICE_MS = 20; // longest stretch of emulation between two looks at the host's I/O
const CHECK_EVERY = 50000; // instructions between two looks at the wall clock
// boot ROM functions run by the emulator (c): connect, exit XIP, erase, program, flush cache, enter XIP
const ROM_HOOKS = ['IF', 'EX', 'RE', 'RP', 'FC', 'CX'];
const HOST_QUEUE_MAX = 64 * 1024; // host->board bytes buffered before the pty is no longer read
const OUT_QUEUE_MAX = 1024 * 1024; // board->host bytes buffered for a reader who is not reading; then dropped

// ---------------------------------------------------------------- arguments
const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
if (!args.firmware || !args.bootrom) {
  process.stderr.write('usage: node run.mjs --firmware firmware.bin --bootrom bootrom.bin ' +
    '[--console-fd R,W] [--telemetry-fd R,W] [--flash IMAGE] [--verbose 1]\n');
  process.exit(2);
}
const controlled = !!args['console-fd']; // launched by tools/emulated_board.py
const bootrom = patchBootrom(fs.readFileSync(args.bootrom));
const flash = new Uint8Array(16 * 1024 * 1024).fill(0xff); // rp2040js maps 16 MB; the chip's flash survives resets
if (args.flash && fs.existsSync(args.flash)) flash.set(fs.readFileSync(args.flash).subarray(0, FLASH_SIZE));
const firmware = fs.readFileSync(args.firmware);
if (firmware.length > FLASH_SIZE) fail(`firmware is ${firmware.length} bytes, larger than the flash`);
flash.set(firmware, 0); // as picotool would: the firmware's sectors only, the filesystem stays

function fail(msg) {
  process.stderr.write(`emulated pico: ${msg}\n`);
  process.exit(1);
}

const stats = { instructions: 0, resets: 0, consoleIn: 0, consoleOut: 0, consoleDropped: 0,
  telemetryOut: 0, telemetryDropped: 0, flashErases: 0, flashPrograms: 0, warnings: 0, runMs: 0 };

function event(obj) {
  if (controlled) process.stdout.write(JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------- (c) boot ROM flash functions
// Each ROM function named in the ROM's function table is replaced by a BKPT whose number says which;
// the break handler does the work on the flash array and returns to the caller (PC = LR).

function patchBootrom(file) {
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

function onBreak(mcu, index) {
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
      warn('core', `BKPT #${index} at 0x${((core.PC - 2) >>> 0).toString(16)}`);
      return;
    default: // connect / exit XIP / flush cache / enter XIP: nothing to do, XIP reads always work here
  }
  core.PC = core.LR & ~1;
}

// ---------------------------------------------------------------- logging
const seenWarnings = new Map();
function warn(component, msg) {
  stats.warnings++;
  const key = component + msg;
  const n = (seenWarnings.get(key) || 0) + 1;
  seenWarnings.set(key, n);
  if (args.verbose && n <= 3) process.stderr.write(`emulated pico: [${component}] ${msg}${n === 3 ? ' (further ones not shown)' : ''}\n`);
}
const logger = {
  debug() {}, info() {},
  warn: (c, m) => warn(c, m),
  error: (c, m) => warn(c, 'error: ' + m), // the package's ConsoleLogger would throw; the board goes on
};

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

class CycleClock {
  constructor(core) {
    this.core = core;
    this.alarms = []; // scheduled alarms, soonest first (a handful at most)
    this.nanosBase = 0;
    this.cyclesBase = 0;
    this.deadline = Infinity; // core.cycles at which the next alarm is due
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
  updateDeadline() {
    const next = this.nextAlarmNanos;
    const now = this.nanos;
    this.deadline = next === Infinity ? Infinity
      : this.core.cycles + Math.max(0, Math.ceil((next - now) * CLK_HZ / 1e9));
  }
  /** Advances time by deltaNanos (0: to the current cycle), firing the alarms due on the way. */
  tick(deltaNanos = 0) {
    const target = this.nanos + deltaNanos;
    while (this.alarms.length && this.alarms[0].nanos <= target + 0.5) { // half a ns: float rounding
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

// ---------------------------------------------------------------- host I/O
function openPair(spec) {
  const [r, w] = spec.split(',').map(Number);
  const input = new tty.ReadStream(r);
  const output = new tty.WriteStream(w);
  output._handle.setBlocking(false); // a reader who stops reading must not stop the board
  output.on('error', () => {});
  input.on('error', () => {});
  return { input, output };
}
const consoleIO = controlled ? openPair(args['console-fd'])
  : { input: process.stdin, output: process.stdout };
const telemetryIO = args['telemetry-fd'] ? openPair(args['telemetry-fd']) : null;

function send(io, data, counter, dropped) {
  if (io.output.writableLength > OUT_QUEUE_MAX) {
    stats[dropped] += data.length;
    return;
  }
  stats[counter] += data.length;
  io.output.write(data);
}

// host -> board over USB: chunks waiting for the board's OUT transfers
const hostQueue = [];
let hostQueued = 0;
consoleIO.input.on('data', (data) => {
  stats.consoleIn += data.length;
  hostQueue.push(data);
  hostQueued += data.length;
  if (hostQueued > HOST_QUEUE_MAX) consoleIO.input.pause();
  board.feedUsb();
  wake();
});
function takeHost(max) {
  const out = new Uint8Array(Math.min(max, hostQueued));
  let n = 0;
  while (n < out.length) {
    const head = hostQueue[0];
    const k = Math.min(head.length, out.length - n);
    out.set(head.subarray(0, k), n);
    n += k;
    if (k === head.length) hostQueue.shift();
    else hostQueue[0] = head.subarray(k);
  }
  hostQueued -= n;
  if (hostQueued <= HOST_QUEUE_MAX / 2) consoleIO.input.resume();
  return out;
}

// host -> board UART0 RX (the telemetry line is two-way like a USB-serial adapter)
const uartRxQueue = [];
if (telemetryIO) {
  telemetryIO.input.on('data', (data) => {
    uartRxQueue.push(...data);
    board.feedUart();
    wake();
  });
}

// ---------------------------------------------------------------- (b) UART with a TX FIFO
const UARTDR = 0x0, UARTFR = 0x18, UARTLCR_H = 0x2c, UARTIFLS = 0x34, UARTIMSC = 0x38;
const FR_BUSY = 1 << 3, FR_RXFE = 1 << 4, FR_TXFF = 1 << 5, FR_RXFF = 1 << 6, FR_TXFE = 1 << 7;
const TXINTR = 1 << 5;

function modelUartTx(uart, clock, emit) {
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
  uart.readUint32 = (offset) => (offset === UARTIFLS ? ifls : read(offset));
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
class Board {
  constructor() {
    this.mcu = null;
    this.resetPending = false;
    this.pendingRead = null; // (a): the OUT transfer the board is waiting on
  }

  /** A fresh RP2040 running the firmware from flash; watchdog state handed over from the last chip. */
  start(watchdog = null) {
    const clock = new CycleClock({ cycles: 0 }); // the core is made inside RP2040()
    const mcu = new RP2040(clock);
    clock.core = mcu.core;
    mcu.logger = logger;
    mcu.loadBootrom(bootrom); // also resets the core (SP from the ROM) and erases rp2040js's own flash
    mcu.flash = flash; // ...so the chip gets ours, shared by every chip of this board
    mcu.flash16 = new Uint16Array(flash.buffer);
    mcu.flashView = new DataView(flash.buffer);
    mcu.onBreak = (code) => onBreak(mcu, code);
    const wd = mcu.peripherals[0x40058];
    if (watchdog) { // SCRATCH0-7 and REASON survive a watchdog reset on the real chip
      wd.scratchData.set(watchdog.scratch);
      wd.reason = watchdog.reason;
    }
    wd.onWatchdogTrigger = () => {
      this.resetPending = true;
      clock.deadline = -1; // leave the run loop at once
    };
    modelUartTx(mcu.uart[0], clock, (byte) => {
      if (telemetryIO) send(telemetryIO, Buffer.of(byte), 'telemetryOut', 'telemetryDropped');
    });
    modelUartTx(mcu.uart[1], clock, () => {});
    modelSof(mcu.usbCtrl, clock);
    const cdc = new USBCDC(mcu.usbCtrl);
    let tail = ''; // until the REPL's first prompt after a boot: the launcher waits for it
    cdc.onSerialData = (data) => {
      send(consoleIO, Buffer.from(data), 'consoleOut', 'consoleDropped');
      if (tail === null) return;
      tail = (tail + Buffer.from(data).toString('latin1')).slice(-16);
      if (tail.endsWith('>>> ') || tail.endsWith('>')) {
        tail = null;
        event({ event: 'repl', resets: stats.resets, simNanos: clock.nanos });
      }
    };
    this.pendingRead = null;
    mcu.usbCtrl.onEndpointRead = (endpoint, size) => { // (a)
      if (endpoint !== cdc.outEndpoint) return;
      this.pendingRead = { endpoint, size };
      this.feedUsb();
    };
    // Boot: run boot2 from flash (it sets up XIP and jumps to the firmware's vector table). The ROM's
    // own flash boot needs an SSI that answers SPI reads, which rp2040js does not model.
    mcu.core.PC = FLASH_XIP;
    this.mcu = mcu;
    this.cdc = cdc;
    this.resetPending = false;
  }

  feedUsb() {
    const p = this.pendingRead;
    if (!p || !hostQueued || !this.mcu) return;
    this.pendingRead = null;
    if (this.mcu.core.waiting) sleepUntilNow();
    this.mcu.usbCtrl.endpointReadDone(p.endpoint, takeHost(p.size));
  }

  feedUart() {
    const uart = this.mcu?.uart[0];
    if (!uart) return;
    if (this.mcu.core.waiting) sleepUntilNow();
    while (uartRxQueue.length && !uart.rxFIFO.full) uart.feedByte(uartRxQueue.shift());
  }

  watchdogReset() {
    const wd = this.mcu.peripherals[0x40058];
    const handover = { scratch: Uint32Array.from(wd.scratchData), reason: wd.reason };
    stats.resets++;
    this.start(handover);
    event({ event: 'reset', reason: handover.reason & 2 ? 'force' : 'timer', resets: stats.resets });
  }
}

// ---------------------------------------------------------------- the run loop
const board = new Board();
board.start();
let wallOffset = 0; // simulated ns = wall ns - wallOffset while the core sleeps (see sleepUntilNow)
let timer = null;
let immediate = null;
const wallNs = () => performance.now() * 1e6;

/** While the core sleeps, simulated time follows the wall clock; time lost running slower than real
 * time is not made up (a sleeping core would otherwise race through its sleeps). */
function sleepUntilNow() {
  const clock = board.mcu.clock;
  const wallSim = wallNs() - wallOffset;
  if (wallSim > clock.nanos) clock.tick(wallSim - clock.nanos);
}

/** While running, the core is slower than real time: forget that debt (no catch-up later). */
function anchor(clock) {
  const now = wallNs();
  if (clock.nanos < now - wallOffset) wallOffset = now - clock.nanos;
}

function run() {
  timer = immediate = null;
  const t0 = performance.now();
  let { core, clock } = board.mcu;
  for (;;) {
    if (core.waiting) sleepUntilNow(); // time asleep follows the wall clock
    else anchor(clock);
    let budget = CHECK_EVERY;
    while (budget > 0) {
      if (core.cycles >= clock.deadline) {
        if (board.resetPending) break;
        clock.tick(0); // fire the alarms due now
        continue;
      }
      if (core.waiting) break;
      core.executeInstruction();
      budget--;
    }
    stats.instructions += CHECK_EVERY - budget;
    if (board.resetPending) {
      board.watchdogReset();
      ({ core, clock } = board.mcu);
      continue;
    }
    if (core.waiting) {
      if (budget < CHECK_EVERY) anchor(clock); // it has just fallen asleep
      // asleep: jump to the next alarm if it is (nearly) due by the wall clock, else wait for it
      const next = clock.nextAlarmNanos;
      const wallSimNow = wallNs() - wallOffset;
      if (next <= wallSimNow + SLACK_NS) {
        clock.tick(Math.max(0, next - clock.nanos));
        continue;
      }
      stats.runMs += performance.now() - t0;
      const ms = next === Infinity ? 1000 : Math.max(1, (next - wallSimNow - SLACK_NS) / 1e6);
      timer = setTimeout(run, ms);
      return;
    }
    if (performance.now() - t0 > SLICE_MS) break;
  }
  stats.runMs += performance.now() - t0;
  immediate = setImmediate(run); // let the host's I/O in
}

/** Host input arrived: a sleeping core may have been woken by it; run now rather than at the timer. */
function wake() {
  if (timer) {
    clearTimeout(timer);
    timer = null;
    immediate = setImmediate(run);
  }
}

// ---------------------------------------------------------------- control
function saveFlash() {
  if (args.flash) fs.writeFileSync(args.flash, flash.subarray(0, FLASH_SIZE));
}
function stop() {
  saveFlash();
  process.exit(0);
}
if (controlled) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'stats') {
      const { core, clock } = board.mcu;
      event({ event: 'stats', ...stats, simNanos: clock.nanos, cycles: core.cycles, pc: core.PC, waiting: core.waiting });
    }
  });
  rl.on('close', stop);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
event({ event: 'up', pid: process.pid });
run();
