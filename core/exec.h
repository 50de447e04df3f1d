/* core/exec.h: what every instruction handler needs.
 *
 * An exec handler implements one OP_* of ops.def for all its encodings,
 * reading its operands through insn_opnd_read/insn_opnd_write so the same
 * code serves register, memory and immediate forms. Handlers are grouped in
 * files (exec_int.c, exec_string.c, exec_sys.c, fpu.c ...); each file has a
 * registration function that fills its rows of the dispatch table, and the
 * run loop calls every registration function once (exec_table.c). A row
 * left empty raises #UD.
 *
 * Handler rules (see cpu.h): fault before commit; branch by setting
 * cpu->next_eip; never touch cpu->eip.
 */
#ifndef FOX86_EXEC_H
#define FOX86_EXEC_H

#include "cpu.h"
#include "insn.h"
#include "mem.h"

typedef void (*exec_fn)(struct cpu *cpu, const struct insn *in);

/* exec_table.c */
extern exec_fn exec_table[OP_COUNT];
void exec_table_init(void);          /* idempotent */

/* Registration, one per handler file. */
void exec_register_int(exec_fn *table);     /* integer ALU, shifts, mul/div, BCD, bits, moves */
void exec_register_string(exec_fn *table);  /* MOVS ... SCAS, INS/OUTS */
void exec_register_flow(exec_fn *table);    /* near jumps, calls, loops, stack ops */
void exec_register_sys(exec_fn *table);     /* segments, far transfers, interrupts, system */
void exec_register_fpu(exec_fn *table);     /* x87 */
void exec_register_sysinsn(exec_fn *table); /* descriptor-table regs, CRn/DRn, MSRs, CLI/STI, IN/OUT, PUSHF/POPF, LAR..ARPL, CPUID */

/* Specialised handlers for common forms, chosen when the run loop caches a
 * decoded instruction (cpu.c); NULL when the form has none, and then
 * exec_table[op] runs. exec_int.c: ALU, MOV, MOVZX, LEA, INC/DEC, shifts;
 * exec_flow.c: Jcc, JMP, CALL, RET, PUSH, POP. */
exec_fn exec_select_int(const struct insn *in);
exec_fn exec_select_flow(const struct insn *in);

/* Effective address offset (before segmentation) of the memory operand. */
static inline uint32_t insn_ea(const struct cpu *cpu, const struct insn *in)
{
    uint32_t ea = (uint32_t)in->disp;
    if (in->ea_base != EA_NONE)
        ea += cpu->gpr[in->ea_base];
    if (in->ea_index != EA_NONE)
        ea += cpu->gpr[in->ea_index] << in->ea_scale;
    return in->addrsize == 2 ? (ea & 0xFFFF) : ea;
}

static inline uint32_t size_mask(int size)
{
    return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

/* Host-order loads and stores of 1, 2 or 4 bytes (the guest is little-endian, like the host). */
static inline uint32_t host_load(const uint8_t *p, int size)
{
    uint32_t v = 0;
    switch (size) {
    case 1:  v = *p; break;
    case 2:  { uint16_t h; __builtin_memcpy(&h, p, 2); v = h; break; }
    default: __builtin_memcpy(&v, p, 4); break;
    }
    return v;
}

static inline void host_store(uint8_t *p, uint32_t v, int size)
{
    switch (size) {
    case 1:  *p = (uint8_t)v; break;
    case 2:  { uint16_t h = (uint16_t)v; __builtin_memcpy(p, &h, 2); break; }
    default: __builtin_memcpy(p, &v, 4); break;
    }
}

/* The full path of cpu_read_sized / cpu_write_sized (mem.c). */
static inline uint32_t cpu_read_sized_slow(struct cpu *cpu, int seg, uint32_t off, int size)
{
    switch (size) {
    case 1:  return cpu_read8(cpu, seg, off);
    case 2:  return cpu_read16(cpu, seg, off);
    default: return cpu_read32(cpu, seg, off);
    }
}

static inline void cpu_write_sized_slow(struct cpu *cpu, int seg, uint32_t off, uint32_t v, int size)
{
    switch (size) {
    case 1:  cpu_write8(cpu, seg, off, (uint8_t)v); break;
    case 2:  cpu_write16(cpu, seg, off, (uint16_t)v); break;
    default: cpu_write32(cpu, seg, off, v); break;
    }
}

/* Reads and writes of 1, 2 or 4 bytes: the common case inline (mem.h,
 * cpu_host_ptr), everything else through mem.c. */
static inline uint32_t cpu_read_sized(struct cpu *cpu, int seg, uint32_t off, int size)
{
    const uint8_t *p = cpu_host_ptr(cpu, seg, off, (uint32_t)size, MEM_READ);
    return p ? host_load(p, size) : cpu_read_sized_slow(cpu, seg, off, size);
}

static inline void cpu_write_sized(struct cpu *cpu, int seg, uint32_t off, uint32_t v, int size)
{
    uint8_t *p = cpu_host_ptr(cpu, seg, off, (uint32_t)size, MEM_WRITE);
    if (p)
        host_store(p, v, size);
    else
        cpu_write_sized_slow(cpu, seg, off, v, size);
}

/* The destination of a read-modify-write is read with write intent, as the
 * hardware's locked cycle does: a fault on it reports a write (#PF with the
 * W bit, #GP for a read-only segment) even though the read comes first. */
static inline uint32_t cpu_read_for_write(struct cpu *cpu, int seg, uint32_t off, int size)
{
    const uint8_t *p = cpu_host_ptr(cpu, seg, off, (uint32_t)size, MEM_WRITE);
    if (p)   /* directly writable: then directly readable too */
        return host_load(p, size);
    cpu_check_access(cpu, seg, off, (uint32_t)size, MEM_WRITE);
    return cpu_read_sized_slow(cpu, seg, off, size);
}

static inline uint32_t cpu_reg_read(const struct cpu *cpu, int reg, int size)
{
    if (size == 1)
        return cpu_reg8(cpu, reg);
    return cpu->gpr[reg] & size_mask(size);
}

/* 16-bit writes keep the upper half; 32-bit writes replace the register. */
static inline void cpu_reg_write(struct cpu *cpu, int reg, uint32_t v, int size)
{
    if (size == 1)
        cpu_set_reg8(cpu, reg, (uint8_t)v);
    else if (size == 2)
        cpu_set_reg16(cpu, reg, (uint16_t)v);
    else
        cpu->gpr[reg] = v;
}

/* Value of operand i (REG, MEM, IMM, SREG), zero-extended. */
static inline uint32_t insn_opnd_read(struct cpu *cpu, const struct insn *in, int i)
{
    const struct opnd *o = &in->opnd[i];
    switch (o->kind) {
    case OPND_REG:  return cpu_reg_read(cpu, o->reg, o->size);
    case OPND_MEM:  return cpu_read_sized(cpu, in->seg, insn_ea(cpu, in), o->size);
    case OPND_IMM:  return (o->reg ? in->imm2 : in->imm) & size_mask(o->size);
    case OPND_SREG: return cpu->seg[o->reg].sel;
    default:        return 0;
    }
}

/* Store v into operand i (REG or MEM). */
static inline void insn_opnd_write(struct cpu *cpu, const struct insn *in, int i, uint32_t v)
{
    const struct opnd *o = &in->opnd[i];
    if (o->kind == OPND_REG)
        cpu_reg_write(cpu, o->reg, v, o->size);
    else if (o->kind == OPND_MEM)
        cpu_write_sized(cpu, in->seg, insn_ea(cpu, in), v, o->size);
}

#endif
