// Runs RPI_PICO MicroPython firmware on the rp2040js RP2040 emulator, as a board the host can talk to.
//
//   node run.mjs --firmware firmware.bin --bootrom rp2040-bootrom-b1.bin \
//                [--console-fd R,W] [--telemetry-fd R,W] [--flash IMAGE] [--verbose 1] [--fast 0]
//
// The console fds carry the USB-CDC REPL, the telemetry fds UART0 (TX out, RX in); cellex_tools/emulated_board.py
// passes pty masters (Node cannot open a pty itself). Without them the console is stdin/stdout.
// With them, stdout carries one JSON event a line (up, usb, repl, reset, stats) and stdin takes commands
// ("stats"); the end of stdin stops the board. The chip itself is chip.mjs.
//
// Time: simulated time is the CPU's cycle count at 125 MHz, so while the core runs it is ~0.3x real
// time; while it sleeps (WFI/WFE) it follows the wall clock, never more than SLACK_NS ahead of it,
// and the time lost while running is not made up (a sleep takes as long as it says).
import fs from 'node:fs';
import tty from 'node:tty';
import readline from 'node:readline';
import { Chip, FLASH_SIZE, newFlash, patchBootrom } from './chip.mjs';

const SLACK_NS = 2e6; // a sleeping core may jump this far ahead of the wall clock (timers are ~1 ms coarse)
const SLICE_MS = 20; // longest stretch of emulation between two looks at the host's I/O
const CHECK_EVERY = 50000; // instructions between two looks at the wall clock
const HOST_QUEUE_MAX = 64 * 1024; // host->board bytes buffered before the pty is no longer read
const OUT_QUEUE_MAX = 1024 * 1024; // board->host bytes kept for a reader who is not reading; then dropped

// ---------------------------------------------------------------- arguments, flash
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.firmware || !args.bootrom) {
  process.stderr.write('usage: node run.mjs --firmware firmware.bin --bootrom bootrom.bin ' +
    '[--console-fd R,W] [--telemetry-fd R,W] [--flash IMAGE] [--verbose 1] [--fast 0]\n');
  process.exit(2);
}
const controlled = !!args['console-fd']; // launched by cellex_tools/emulated_board.py
const bootrom = patchBootrom(fs.readFileSync(args.bootrom));
const flash = newFlash();
if (args.flash && fs.existsSync(args.flash)) flash.set(fs.readFileSync(args.flash).subarray(0, FLASH_SIZE));
const firmware = fs.readFileSync(args.firmware);
if (firmware.length > FLASH_SIZE) {
  process.stderr.write(`emulated pico: firmware is ${firmware.length} bytes, more than the flash\n`);
  process.exit(1);
}
flash.set(firmware, 0); // as picotool would: the firmware's sectors only, the filesystem stays

const stats = { instructions: 0, resets: 0, consoleIn: 0, consoleOut: 0, consoleDropped: 0,
  telemetryIn: 0, telemetryOut: 0, telemetryDropped: 0, flashErases: 0, flashPrograms: 0, warnings: 0, runMs: 0 };

function event(obj) {
  if (controlled) process.stdout.write(JSON.stringify(obj) + '\n');
}

// rp2040js logs every unmodelled register access; count them, show them with --verbose
const seenWarnings = new Map();
function warn(component, msg) {
  stats.warnings++;
  const n = (seenWarnings.get(component + msg) || 0) + 1;
  seenWarnings.set(component + msg, n);
  if (args.verbose && n <= 3) process.stderr.write(`emulated pico: [${component}] ${msg}\n`);
}
const logger = {
  debug() {}, info() {},
  warn: (c, m) => warn(c, m),
  error: (c, m) => warn(c, 'error: ' + m), // the package's ConsoleLogger would throw; the board goes on
};

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
const consoleIO = controlled ? openPair(args['console-fd']) : { input: process.stdin, output: process.stdout };
const telemetryIO = args['telemetry-fd'] ? openPair(args['telemetry-fd']) : null;

function send(io, data, counter, dropped) {
  if (!io || io.output.writableLength > OUT_QUEUE_MAX) {
    stats[dropped] += data.length;
    return;
  }
  stats[counter] += data.length;
  io.output.write(data);
}

/** Bytes from the host waiting for the board; the pty is not read while too many wait. */
class HostQueue {
  constructor(input, counter) {
    this.chunks = [];
    this.length = 0;
    this.input = input;
    input.on('data', (data) => {
      stats[counter] += data.length;
      this.chunks.push(data);
      this.length += data.length;
      if (this.length > HOST_QUEUE_MAX) input.pause();
      if (chip.core.waiting) sleepUntilNow(); // the data arrives at the right simulated time
      if (this === consoleQueue) chip.consoleInput();
      else chip.uartInput();
      wake();
    });
  }
  take(max) {
    const out = new Uint8Array(Math.min(max, this.length));
    let n = 0;
    while (n < out.length) {
      const head = this.chunks[0];
      const k = Math.min(head.length, out.length - n);
      out.set(head.subarray(0, k), n);
      n += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.length -= n;
    if (this.length <= HOST_QUEUE_MAX / 2) this.input.resume();
    return out;
  }
}
const consoleQueue = new HostQueue(consoleIO.input, 'consoleIn');
const uartQueue = telemetryIO ? new HostQueue(telemetryIO.input, 'telemetryIn') : null;

const host = {
  console: (data) => send(consoleIO, Buffer.from(data), 'consoleOut', 'consoleDropped'),
  telemetry: (byte) => send(telemetryIO, Buffer.of(byte), 'telemetryOut', 'telemetryDropped'),
  takeConsole: (max) => consoleQueue.take(max),
  takeUart: () => (uartQueue && uartQueue.length ? uartQueue.take(1)[0] : undefined),
  usb: () => event({ event: 'usb', resets: stats.resets, simNanos: chip.clock.nanos }),
  repl: () => event({ event: 'repl', resets: stats.resets, simNanos: chip.clock.nanos }),
};

function newChip(handover) {
  return new Chip({ bootrom, flash, host, logger, stats, handover, fast: args.fast !== '0' });
}

// ---------------------------------------------------------------- the run loop
let chip = newChip(null);
let wallOffset = 0; // while the core sleeps: simulated ns = wall ns - wallOffset
let timer = null;
const wallNs = () => performance.now() * 1e6;

/** A sleeping core's time follows the wall clock. */
function sleepUntilNow() {
  const behind = wallNs() - wallOffset - chip.clock.nanos;
  if (behind > 0) chip.clock.tick(behind);
}

/** A running core is slower than real time: forget that debt (it is not made up while sleeping). */
function anchor() {
  const now = wallNs();
  if (chip.clock.nanos < now - wallOffset) wallOffset = now - chip.clock.nanos;
}

function run() {
  timer = null;
  const t0 = performance.now();
  let { core, clock } = chip;
  for (;;) {
    if (core.waiting) sleepUntilNow();
    else anchor();
    let budget = CHECK_EVERY;
    while (budget > 0) {
      if (core.cycles >= clock.deadline) {
        if (chip.resetPending) break;
        clock.tick(0); // fire the alarms due now
        continue;
      }
      if (core.waiting) break;
      budget -= chip.run(budget);
    }
    stats.instructions += CHECK_EVERY - budget;
    if (chip.resetPending) { // (d) a watchdog reset: a new chip on the same flash
      const handover = chip.handover();
      stats.resets++;
      chip = newChip(handover);
      ({ core, clock } = chip);
      event({ event: 'reset', reason: handover.reason & 2 ? 'force' : 'timer', resets: stats.resets });
      continue;
    }
    if (core.waiting) {
      if (budget < CHECK_EVERY) anchor(); // it has just fallen asleep
      // asleep: jump to the next alarm if the wall clock has (nearly) reached it, else wait for it
      const next = clock.nextAlarmNanos;
      const wallSim = wallNs() - wallOffset;
      if (next <= wallSim + SLACK_NS) {
        clock.tick(Math.max(0, next - clock.nanos));
        continue;
      }
      stats.runMs += performance.now() - t0;
      timer = setTimeout(run, next === Infinity ? 1000 : Math.max(1, (next - wallSim - SLACK_NS) / 1e6));
      return;
    }
    if (performance.now() - t0 > SLICE_MS) break;
  }
  stats.runMs += performance.now() - t0;
  setImmediate(run); // let the host's I/O in
}

/** Host input arrived: a sleeping core may have been woken by it; run now rather than at the timer. */
function wake() {
  if (timer) {
    clearTimeout(timer);
    timer = null;
    setImmediate(run);
  }
}

// ---------------------------------------------------------------- control
function stop() {
  if (args.flash) fs.writeFileSync(args.flash, flash.subarray(0, FLASH_SIZE));
  process.exit(0);
}
if (controlled) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'stats') {
      const { core, clock } = chip;
      if (core.waiting) sleepUntilNow(); // bring a sleeping chip's clock up to now
      const wd = chip.mcu.peripherals[0x40058];
      event({ event: 'stats', ...stats, simNanos: clock.nanos, cycles: core.cycles, pc: core.PC, waiting: core.waiting,
        watchdog: { enabled: wd.enable, counter: wd.timer.counter, reason: wd.reason, scratch: [...wd.scratchData] },
        alarms: clock.alarms.map((a) => a.nanos - clock.nanos) });
    }
  });
  rl.on('close', stop);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
event({ event: 'up', pid: process.pid });
run();
