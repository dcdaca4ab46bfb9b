// A faster instruction loop for rp2040js's Cortex-M0+ core, same results.
//
// rp2040js decodes each instruction by walking a chain of ~90 if/else tests, and every fetch and
// memory access goes through RP2040.readUint16/readUint32's range checks. run() decodes the
// frequent Thumb instructions with one switch on the top five bits, reads/writes SRAM and flash
// through typed arrays, and loops until the next alarm is due or the core sleeps (one call per
// batch, not per instruction); anything else (rare instructions, peripherals, other address
// regions, pending interrupts) falls back to the package's own executeInstruction(). Results and cycle counts
// are the package's: the same formulas, including its flag helpers and its 1-cycle-per-access model
// (cyclesIO). lockstep.mjs checks this instruction by instruction against the package.
const RAM = 0x20000000;
const FLASH = 0x10000000;

export function makeFastRun(mcu) {
  const core = mcu.core;
  const clock = mcu.clock; // CycleClock: its deadline is the cycle count of the next alarm
  const r = core.registers; // Uint32Array: stores wrap to 32 bits by themselves
  const sram = mcu.sram;
  const sramView = mcu.sramView;
  const sram16 = new Uint16Array(sram.buffer);
  const RAM_END = RAM + sram.length;
  const { flash, flashView, flash16 } = mcu; // the board's flash, already swapped in by Chip
  const FLASH_END = FLASH + flash.length;
  const slow = () => core.executeInstruction();

  function read32(a) {
    if (a >= RAM && a + 3 < RAM_END) return sramView.getUint32(a - RAM, true);
    if (a >= FLASH && a + 3 < FLASH_END) return flashView.getUint32(a - FLASH, true);
    return mcu.readUint32(a);
  }
  // cycles of one access, as CortexM0Core.cyclesIO: 1 for memory, 0 SIO, 3/4 APB
  const io = (a, write) => (a >= RAM && a < RAM_END) || (a >= FLASH && a < FLASH_END) ? 1 : core.cyclesIO(a, write);

  /** Runs instructions until `budget` are done, the next alarm is due or the core sleeps; returns the count. */
  function run(budget) {
    let done = 0;
    for (; done < budget; done++) {
      if (core.cycles >= clock.deadline || core.waiting) break;
      if (core.interruptsUpdated) { slow(); continue; }
      const pc = r[15] & ~1;
      let op;
      if (pc >= FLASH && pc < FLASH_END) op = flash16[(pc - FLASH) >>> 1];
      else if (pc >= RAM && pc < RAM_END) op = sram16[(pc - RAM) >>> 1];
      else { slow(); continue; }
      let cycles = 1;
      switch (op >>> 11) {
        case 0b00000: { // LSLS (immediate)
          const imm5 = (op >> 6) & 0x1f;
          const input = r[(op >> 3) & 7];
          const result = input << imm5;
          r[op & 7] = result;
          core.N = !!(result & 0x80000000);
          core.Z = result === 0;
          if (imm5) core.C = !!(input & (1 << (32 - imm5)));
          break;
        }
        case 0b00001: { // LSRS (immediate)
          const imm5 = (op >> 6) & 0x1f;
          const input = r[(op >> 3) & 7];
          const result = imm5 ? input >>> imm5 : 0;
          r[op & 7] = result;
          core.N = !!(result & 0x80000000);
          core.Z = result === 0;
          core.C = !!((input >>> (imm5 ? imm5 - 1 : 31)) & 1);
          break;
        }
        case 0b00010: { // ASRS (immediate)
          const imm5 = (op >> 6) & 0x1f;
          const input = r[(op >> 3) & 7];
          const shiftN = imm5 ? imm5 : 32;
          const result = shiftN < 32 ? input >> shiftN : (input & 0x80000000) >> 31;
          r[op & 7] = result;
          core.N = !!(result & 0x80000000);
          core.Z = (result & 0xffffffff) === 0;
          core.C = !!(input & (1 << (shiftN - 1)));
          break;
        }
        case 0b00011: { // ADDS/SUBS register, ADDS/SUBS 3-bit immediate
          const rn = r[(op >> 3) & 7];
          const m = (op >> 6) & 7;
          switch ((op >> 9) & 3) {
            case 0: r[op & 7] = core.addUpdateFlags(rn, r[m]); break;
            case 1: r[op & 7] = core.substractUpdateFlags(rn, r[m]); break;
            case 2: r[op & 7] = core.addUpdateFlags(rn, m); break;
            default: r[op & 7] = core.substractUpdateFlags(rn, m);
          }
          break;
        }
        case 0b00100: { // MOVS (immediate)
          const value = op & 0xff;
          r[(op >> 8) & 7] = value;
          core.N = false;
          core.Z = value === 0;
          break;
        }
        case 0b00101: // CMP (immediate)
          core.substractUpdateFlags(r[(op >> 8) & 7], op & 0xff);
          break;
        case 0b00110: { // ADDS (8-bit immediate)
          const d = (op >> 8) & 7;
          r[d] = core.addUpdateFlags(r[d], op & 0xff);
          break;
        }
        case 0b00111: { // SUBS (8-bit immediate)
          const d = (op >> 8) & 7;
          r[d] = core.substractUpdateFlags(r[d], op & 0xff);
          break;
        }
        case 0b01000:
          if (!(op & 0x400)) { // data processing
            const m = (op >> 3) & 7;
            const d = op & 7;
            let result;
            switch ((op >> 6) & 0xf) {
              case 0b0000: result = r[d] = r[d] & r[m]; break; // ANDS
              case 0b0001: result = r[d] = r[m] ^ r[d]; break; // EORS
              case 0b1000: result = r[d] & r[m]; break; // TST
              case 0b1001: r[d] = core.substractUpdateFlags(0, r[m]); r[15] = pc + 2; core.cycles += 1; continue; // RSBS
              case 0b1010: core.substractUpdateFlags(r[d], r[m]); r[15] = pc + 2; core.cycles += 1; continue; // CMP
              case 0b1100: result = r[d] = r[d] | r[m]; break; // ORRS
              case 0b1101: result = r[d] = Math.imul(r[m], r[d]); break; // MULS
              case 0b1110: result = r[d] = r[d] & ~r[m]; break; // BICS
              case 0b1111: result = r[d] = ~r[m]; break; // MVNS
              default: { slow(); continue; } // shifts by register, ADCS, SBCS, RORS, CMN
            }
            core.N = !!(result & 0x80000000);
            core.Z = (result & 0xffffffff) === 0;
            break;
          } else { // special data processing, branch and exchange
            const m = (op >> 3) & 0xf;
            switch ((op >> 8) & 3) {
              case 0: { // ADD (register), high registers
                const d = ((op & 0x80) >> 4) | (op & 7);
                if (d === 15 || m === 15) { slow(); continue; }
                const result = r[d] + r[m];
                r[d] = d === 13 ? result & ~3 : result;
                break;
              }
              case 1: { // CMP (register), high registers
                const n = ((op >> 4) & 8) | (op & 7);
                core.substractUpdateFlags(r[n], r[m]);
                break;
              }
              case 2: { // MOV (register)
                const d = ((op >> 4) & 8) | (op & 7);
                let value = m === 15 ? pc + 4 : r[m];
                if (d === 15) {
                  r[15] = value & ~1;
                  core.cycles += 2;
                  continue;
                }
                if (d === 13) value &= ~3;
                r[d] = value;
                break;
              }
              default: { // BX, BLX
                if (op & 7) { slow(); continue; }
                const target = r[m];
                r[15] = pc + 2;
                if (op & 0x80) {
                  r[14] = (pc + 2) | 1;
                  r[15] = target & ~1;
                } else {
                  core.BXWritePC(target);
                }
                core.cycles += 2;
                continue;
              }
            }
            break;
          }
        case 0b01001: { // LDR (literal)
          const addr = ((pc + 4) & 0xfffffffc) + ((op & 0xff) << 2);
          cycles += io(addr, false);
          r[(op >> 8) & 7] = read32(addr);
          break;
        }
        case 0b01010: case 0b01011: { // load/store with register offset
          const addr = (r[(op >> 6) & 7] + r[(op >> 3) & 7]) >>> 0;
          const t = op & 7;
          const kind = (op >> 9) & 7;
          if (kind < 3) { // stores: SRAM only, the rest (peripherals) through the package
            if (!(addr >= RAM && addr + 3 < RAM_END)) { slow(); continue; }
            cycles += 1;
            if (kind === 0) sramView.setUint32(addr - RAM, r[t], true); // STR
            else if (kind === 1) sramView.setUint16(addr - RAM, r[t], true); // STRH
            else sram[addr - RAM] = r[t]; // STRB
            break;
          }
          switch (kind) {
            case 3: // LDRSB
              cycles += io(addr, false);
              r[t] = (mcu.readUint8(addr) << 24) >> 24;
              break;
            case 4: cycles += io(addr, false); r[t] = read32(addr); break; // LDR
            case 5: // LDRH
              cycles += io(addr, false);
              r[t] = addr >= RAM && addr + 1 < RAM_END && !(addr & 1) ? sram16[(addr - RAM) >>> 1] : mcu.readUint16(addr);
              break;
            case 6: // LDRB
              cycles += io(addr, false);
              r[t] = addr >= RAM && addr < RAM_END ? sram[addr - RAM] : mcu.readUint8(addr);
              break;
            default: // LDRSH
              cycles += io(addr, false);
              r[t] = (mcu.readUint16(addr) << 16) >> 16;
          }
          break;
        }
        case 0b01100: { // STR (immediate)
          const addr = (r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 2)) >>> 0;
          if (!(addr >= RAM && addr + 3 < RAM_END)) { slow(); continue; }
          cycles += 1;
          sramView.setUint32(addr - RAM, r[op & 7], true);
          break;
        }
        case 0b01101: { // LDR (immediate)
          const addr = (r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 2)) >>> 0;
          cycles += io(addr, false);
          r[op & 7] = read32(addr);
          break;
        }
        case 0b01110: { // STRB (immediate)
          const addr = (r[(op >> 3) & 7] + ((op >> 6) & 0x1f)) >>> 0;
          if (!(addr >= RAM && addr < RAM_END)) { slow(); continue; }
          cycles += 1;
          sram[addr - RAM] = r[op & 7];
          break;
        }
        case 0b01111: { // LDRB (immediate)
          const addr = (r[(op >> 3) & 7] + ((op >> 6) & 0x1f)) >>> 0;
          cycles += io(addr, false);
          r[op & 7] = addr >= RAM && addr < RAM_END ? sram[addr - RAM]
            : addr >= FLASH && addr < FLASH_END ? flash[addr - FLASH] : mcu.readUint8(addr);
          break;
        }
        case 0b10000: { // STRH (immediate)
          const addr = (r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 1)) >>> 0;
          if (!(addr >= RAM && addr + 1 < RAM_END)) { slow(); continue; }
          cycles += 1;
          sramView.setUint16(addr - RAM, r[op & 7], true);
          break;
        }
        case 0b10001: { // LDRH (immediate)
          const addr = (r[(op >> 3) & 7] + (((op >> 6) & 0x1f) << 1)) >>> 0;
          cycles += io(addr, false);
          r[op & 7] = addr >= RAM && addr + 1 < RAM_END ? sramView.getUint16(addr - RAM, true) : mcu.readUint16(addr);
          break;
        }
        case 0b10010: { // STR (SP + immediate)
          const addr = (r[13] + ((op & 0xff) << 2)) >>> 0;
          if (!(addr >= RAM && addr + 3 < RAM_END)) { slow(); continue; }
          cycles += 1;
          sramView.setUint32(addr - RAM, r[(op >> 8) & 7], true);
          break;
        }
        case 0b10011: { // LDR (SP + immediate)
          const addr = (r[13] + ((op & 0xff) << 2)) >>> 0;
          cycles += io(addr, false);
          r[(op >> 8) & 7] = read32(addr);
          break;
        }
        case 0b10100: // ADR
          r[(op >> 8) & 7] = (pc & 0xfffffffc) + 4 + ((op & 0xff) << 2);
          break;
        case 0b10101: // ADD (SP plus immediate)
          r[(op >> 8) & 7] = r[13] + ((op & 0xff) << 2);
          break;
        case 0b10110:
          switch ((op >> 8) & 7) {
            case 0b000: // ADD / SUB SP, immediate
              r[13] = (op & 0x80 ? r[13] - ((op & 0x7f) << 2) : r[13] + ((op & 0x7f) << 2)) & ~3;
              break;
            case 0b010: { // SXTH, SXTB, UXTH, UXTB
              const input = r[(op >> 3) & 7];
              const d = op & 7;
              switch ((op >> 6) & 3) {
                case 0: r[d] = (input << 16) >> 16; break;
                case 1: r[d] = (input << 24) >> 24; break;
                case 2: r[d] = input & 0xffff; break;
                default: r[d] = input & 0xff;
              }
              break;
            }
            case 0b100: case 0b101: { // PUSH
              let address = r[13];
              for (let i = 0; i <= 8; i++) if (op & (1 << i)) address -= 4;
              if (!(address >= RAM && r[13] <= RAM_END)) { slow(); continue; }
              r[13] = address;
              for (let i = 0; i <= 7; i++) {
                if (op & (1 << i)) {
                  sramView.setUint32(address - RAM, r[i], true);
                  address += 4;
                  cycles++;
                }
              }
              if (op & 0x100) sramView.setUint32(address - RAM, r[14], true);
              break;
            }
            default: { slow(); continue; } // CPS, ...
          }
          break;
        case 0b10111:
          if (((op >> 9) & 3) === 0b10) { // POP
            let address = r[13];
            const count = (op & 0x100 ? 1 : 0) + popCount8[op & 0xff];
            if (!(address >= RAM && address + 4 * count <= RAM_END)) { slow(); continue; }
            for (let i = 0; i <= 7; i++) {
              if (op & (1 << i)) {
                r[i] = sramView.getUint32(address - RAM, true);
                address += 4;
                cycles++;
              }
            }
            if (op & 0x100) {
              r[13] = address + 4;
              r[15] = pc + 2;
              core.BXWritePC(sramView.getUint32(address - RAM, true));
              cycles += 2;
              core.cycles += cycles;
              continue;
            }
            r[13] = address;
            break;
          }
          { slow(); continue; } // REV*, BKPT, hints (WFI/WFE/NOP/SEV)
        case 0b11010: case 0b11011: { // B<cond>
          const cond = (op >> 8) & 0xf;
          if (cond >= 0b1110) { slow(); continue; } // UDF, SVC
          if (core.checkCondition(cond)) {
            r[15] = pc + 4 + (((op & 0xff) << 24) >> 23);
            core.cycles += 2;
            continue;
          }
          break;
        }
        case 0b11100: // B
          r[15] = pc + 4 + (((op & 0x7ff) << 21) >> 20);
          core.cycles += 2;
          continue;
        case 0b11110: { // BL (the other 32-bit instructions: MSR, MRS, barriers)
          const op2 = pc + 2 >= RAM && pc + 2 < RAM_END ? sram16[(pc + 2 - RAM) >>> 1] : mcu.readUint16(pc + 2);
          if ((op2 & 0xd000) !== 0xd000) { slow(); continue; }
          const S = (op >> 10) & 1;
          const I1 = 1 - (S ^ ((op2 >> 13) & 1));
          const I2 = 1 - (S ^ ((op2 >> 11) & 1));
          const imm32 = ((S ? 0xff : 0) << 24) | (I1 << 23) | (I2 << 22) | ((op & 0x3ff) << 12) | ((op2 & 0x7ff) << 1);
          r[14] = (pc + 4) | 1;
          r[15] = pc + 4 + imm32;
          core.cycles += 3;
          continue;
        }
        case 0b11000: case 0b11001: { // STMIA, LDMIA
          const n = (op >> 8) & 7;
          const list = op & 0xff;
          let address = r[n];
          if (!(address >= RAM && address + 4 * popCount8[list] <= RAM_END)) { slow(); continue; }
          for (let i = 0; i < 8; i++) {
            if (list & (1 << i)) {
              if (op & 0x800) r[i] = sramView.getUint32(address - RAM, true);
              else sramView.setUint32(address - RAM, r[i], true);
              address += 4;
              cycles++;
            }
          }
          if (!(list & (1 << n))) r[n] = address; // write back
          break;
        }
        default:
          { slow(); continue; } // 32-bit encodings other than BL
      }
      r[15] = pc + 2;
      core.cycles += cycles;
    }
    return done;
  }
  return run;
}

const popCount8 = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let b = i; b; b >>= 1) n += b & 1;
  return n;
});
