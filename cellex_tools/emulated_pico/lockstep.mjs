// Checks fastcore.mjs against rp2040js's own executeInstruction, and measures instructions/s.
//
//   node lockstep.mjs --firmware firmware.bin --bootrom rp2040-bootrom-b1.bin [--mode check|bench]
//                     [--instructions N] [--script FILE]
//
// Runs the firmware deterministically (simulated time only: a sleeping core jumps to its next alarm),
// types --script (default: a small compute job) at the REPL's first prompt, then:
//   check: two chips, one stepping with fastcore.mjs and one with the package, compared after every
//          instruction (registers, flags, cycles); exits 1 at the first difference;
//   bench: one chip with fastcore.mjs and one without, each timed over the same run.
import fs from 'node:fs';
import { Chip, FLASH_SIZE, newFlash, patchBootrom } from './chip.mjs';

const args = { mode: 'check', instructions: '20000000' };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const SCRIPT = args.script ? fs.readFileSync(args.script, 'latin1') : [
  'def f(n):',
  '    s = 0',
  '    for i in range(n):',
  '        s += i * 3 // 7 + len(str(i)) + int(1.5 * i)',
  '    return s',
  '',
  'print(f(4000), [x * x for x in range(50)][-1], {i: str(i) for i in range(40)}[39], 2 ** 100 % 97)',
  '',
].join('\n');
const bootrom = patchBootrom(fs.readFileSync(args.bootrom));
const firmware = fs.readFileSync(args.firmware);
const limit = Number(args.instructions);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function makeBoard(fast) {
  const flash = newFlash();
  flash.set(firmware.subarray(0, FLASH_SIZE), 0);
  const board = { output: '', input: [], executed: 0 };
  const host = {
    console: (data) => { board.output += Buffer.from(data).toString('latin1'); },
    telemetry: () => {},
    takeConsole: (max) => Uint8Array.from(board.input.splice(0, max)),
    takeUart: () => undefined,
    repl: () => { // at the first prompt, run the script in the raw REPL (Ctrl-A ... Ctrl-D)
      board.input.push(...Buffer.from('\x01' + SCRIPT + '\x04', 'latin1'));
      setTimeout0(() => board.chip.consoleInput());
    },
  };
  const stats = { flashErases: 0, flashPrograms: 0 };
  board.chip = new Chip({ bootrom, flash, host, logger: quiet, stats, fast });
  return board;
}
// the REPL hook runs inside an instruction; the held read is completed after it
const deferred = [];
const setTimeout0 = (fn) => deferred.push(fn);

/** Up to `max` instructions (or, asleep, a jump to the next alarm); false when nothing is left to do. */
function advance(board, max = 1) {
  const { core, clock } = board.chip;
  if (core.cycles >= clock.deadline) {
    clock.tick(0);
    return true;
  }
  if (core.waiting) {
    if (clock.nextAlarmNanos === Infinity) return false;
    clock.tick(clock.nextAlarmNanos - clock.nanos);
    return true;
  }
  board.executed += board.chip.run(max);
  while (deferred.length) deferred.shift()();
  return true;
}

function state(chip) {
  const c = chip.core;
  // PC compared without bit 0: after an exception entry the package keeps the vector's Thumb bit in
  // PC and carries it along; fastcore clears it, as the chip does (fetches ignore it either way)
  const r = c.registers;
  return [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
    r[15] & ~1, c.N, c.Z, c.C, c.V, c.cycles, c.bankedSP, c.IPSR, c.PM, c.waiting];
}

const same = (x, y) => x.every((v, i) => v === y[i]);

if (args.mode === 'check') {
  const a = makeBoard(false);
  const b = makeBoard(true);
  while (a.executed < limit) {
    const before = state(a.chip);
    const more = advance(a);
    advance(b);
    const sa = state(a.chip);
    const sb = state(b.chip);
    if (!same(sa, sb)) {
      const op = a.chip.mcu.readUint16(before[15]).toString(16);
      console.error(`differ after ${a.executed} instructions (opcode 0x${op}):\n before  ${before}\n package ${sa}\n fast    ${sb}`);
      process.exit(1);
    }
    if (!more) break;
  }
  const sameOutput = a.output === b.output;
  console.log(`${a.executed} instructions in lockstep, same output: ${sameOutput}\n${JSON.stringify(a.output.slice(-200))}`);
  process.exit(sameOutput ? 0 : 1);
} else {
  for (const fast of args.only ? [args.only === 'fast'] : [true, false]) {
    const board = makeBoard(fast);
    const c0 = process.cpuUsage();
    while (board.executed < limit && advance(board, Math.min(50000, limit - board.executed))) { /* run */ }
    const cpu = process.cpuUsage(c0);
    const ms = (cpu.user + cpu.system) / 1000; // CPU time: other processes on the machine do not count
    console.log(`${fast ? 'fastcore' : 'rp2040js'}: ${board.executed} instructions in ${ms.toFixed(0)} ms of CPU = ` +
      `${(board.executed / ms / 1000).toFixed(1)} M/s; output ${JSON.stringify(board.output.slice(-60))}`);
  }
}
