/* core/exec_sysinsn.c: system instructions that are not control transfers
 * (plus SYSENTER/SYSEXIT), and the I/O permission check.
 *
 * Covered: SGDT SIDT SLDT STR SMSW, LGDT LIDT LLDT LTR LMSW CLTS, MOV to/from
 * CRn and DRn, INVD WBINVD INVLPG HLT, RDMSR WRMSR, SYSENTER SYSEXIT, CLI STI,
 * IN OUT, PUSHF POPF, LAR LSL VERR VERW ARPL, CPUID RDTSC RDPMC, RSM UD2 WAIT.
 * Semantics follow the SDM Vol. 2 instruction pages and Vol. 3A chapters 2
 * (control registers), 3 (descriptors), 5 (protection), 17 (debug), 20
 * (V86 I/O), as a P6-family processor without VME executes them.
 *
 * Privilege, in the order the checks are made:
 *   - #UD first for what the encoding cannot be (register operand of a
 *     memory-only instruction, CR1/CR5-7, LLDT/LTR/SLDT/STR/LAR/LSL/VERR/
 *     VERW/ARPL in real or V86 mode, RSM, UD2);
 *   - then #GP(0) for a privileged instruction at CPL > 0 or in V86 mode
 *     (real mode is CPL 0);
 *   - then operand reads, descriptor checks; state is committed last.
 * V86 has no VME here (CPUID says so and CR4.VME/PVI are reserved), so
 * CLI/STI/PUSHF/POPF with IOPL < 3 in V86 always raise #GP(0).
 *
 * Choices where the SDM leaves room (P6 behaviour where Intel documents it):
 *   - SGDT/SIDT with 16-bit operand size store the limit, the low 24 bits of
 *     the base and a zero sixth byte (SDM: P6 fills with 0s, the 286 with
 *     1s); with 32-bit operand size the whole base. LGDT/LIDT with 16-bit
 *     operand size load a 24-bit base (top byte 0).
 *   - SLDT/STR/SMSW to a 32-bit register: SLDT/STR zero-extend the selector
 *     (documented for P6); SMSW, whose upper half the SDM calls undefined,
 *     stores all of CR0 as P6 parts do. To memory they store 16 bits at any
 *     operand size; to a 16-bit register they keep the register's upper half.
 *   - CR0: reserved bits are ignored on write (SDM 2.5), ET reads as 1,
 *     PG without PE or NW without CD raise #GP(0). CR4: a set bit outside
 *     CPU_CR4_VALID (cpuid.h) raises #GP(0). CR3: stored as written; the
 *     walker uses bits 31:12 (and PCD/PWT).
 *   - TLB: a change of CR0.PG/PE/WP or CR4.PSE/PGE/PAE flushes everything
 *     (global entries too); any CR3 write flushes non-global entries.
 *   - DR6 writes keep B0-B3/BD/BS/BT and read back the P6 reserved ones
 *     (0xFFFF0FF0); DR7 writes clear bits 11, 12, 14, 15 and set bit 10.
 *     With DR7.GD set, any MOV DR raises #DB (a fault) after setting DR6.BD
 *     and clearing DR7.GD, as the processor does on entry to the handler.
 *   - LAR with 32-bit operand size returns high dword & 0x00F0FF00: the
 *     limit bits 19:16 the SDM calls undefined read as 0. LAR, LSL, VERR
 *     and VERW never look at the present bit and never set accessed bits.
 *   - MSRs: 0x10 TSC (a write sets the low 32 bits and clears the high 32,
 *     as on P6), 0x17 PLATFORM_ID (reads 0, write #GP), 0x8B BIOS_SIGN_ID
 *     (reads 0: no microcode update loaded; writes ignored), 0x174-0x176
 *     SYSENTER_CS/ESP/EIP (32 bits; EDX ignored on write, 0 on read).
 *     Any other MSR goes to the board's cpu->msr_hook (the local APIC's
 *     0x1B); without one, or if it refuses, #GP(0): no MTRR, MCE/MCA.
 *   - RDPMC: counters 0 and 1 exist (P6) and read 0, since no event select
 *     MSR exists to start them; ECX > 1 raises #GP(0).
 *   - WAIT with an unmasked x87 exception pending (FSW.ES) and CR0.NE = 0
 *     should signal FERR# to the board (IRQ 13): see the TODO in exec_wait.
 *   - STI sets irq_inhibit = 1 when it changes IF from 0 to 1: the run loop
 *     lets the next instruction complete before it takes an interrupt.
 *
 * Usage: exec_table_init() calls exec_register_sysinsn(exec_table).
 */
#include "cpuid.h"
#include "desc.h"
#include "exec.h"
#include "flags.h"
#include "ioport.h"

/* DR6/DR7 bits used here */
enum {
    DR6_BD = 1u << 13,
    DR7_GD = 1u << 13,
    DR6_FIXED_ONES = 0xFFFF0FF0u,
    DR6_WRITABLE = 0x0000E00Fu,
    DR7_FIXED_ONES = 0x00000400u,
    DR7_WRITABLE = 0xFFFF23FFu,
};

/* MSR numbers (SDM Vol. 4, architectural MSRs) */
enum {
    MSR_TSC = 0x10,
    MSR_PLATFORM_ID = 0x17,
    MSR_BIOS_SIGN_ID = 0x8B,
    MSR_SYSENTER_CS = 0x174,
    MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176,
    MSR_P6_PERFCTR0 = 0xC1,        /* and PERFCTR1 = 0xC2 */
    MSR_P6_EVNTSEL0 = 0x186,       /* and EVNTSEL1 = 0x187 */
};

#define FPU_SW_ES 0x0080u          /* x87 error summary: an unmasked exception is pending */
#define SEL_ERROR(sel) ((uint32_t)((sel) & 0xFFFCu))   /* #GP/#NP(selector) error code */

/* CPL as the privilege checks see it: 0 in real mode, 3 in V86. */
static int sys_cpl(const struct cpu *cpu)
{
    if (!cpu_protected(cpu))
        return 0;
    return cpu_v86(cpu) ? 3 : cpu->cpl;
}

static void sys_require_cpl0(struct cpu *cpu)
{
    if (sys_cpl(cpu) != 0)
        cpu_raise(cpu, EXC_GP, 0);
}

/* Instructions not recognised in real-address or virtual-8086 mode. */
static void sys_require_pmode(struct cpu *cpu)
{
    if (!cpu_protected(cpu) || cpu_v86(cpu))
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
}

static void sys_require_mem(struct cpu *cpu, const struct insn *in, int i)
{
    if (in->opnd[i].kind != OPND_MEM)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
}

/* A 16-bit operand (selector, MSW) whatever size the decoder gave it. */
static uint16_t sys_read16(struct cpu *cpu, const struct insn *in, int i)
{
    if (in->opnd[i].kind == OPND_MEM)
        return cpu_read16(cpu, in->seg, insn_ea(cpu, in));
    return (uint16_t)insn_opnd_read(cpu, in, i);
}

static void sys_write16(struct cpu *cpu, const struct insn *in, int i, uint16_t v)
{
    if (in->opnd[i].kind == OPND_MEM)
        cpu_write16(cpu, in->seg, insn_ea(cpu, in), v);
    else
        cpu_set_reg16(cpu, in->opnd[i].reg, v);
}

/* SLDT/STR/SMSW destination: 16 bits to memory; a register gets reg32 with
 * 32-bit operand size, or its low half replaced by the 16-bit value. */
static void sys_store_word_or_reg(struct cpu *cpu, const struct insn *in,
                                  uint16_t mem16, uint32_t reg32)
{
    if (in->opnd[0].kind == OPND_MEM)
        cpu_write16(cpu, in->seg, insn_ea(cpu, in), mem16);
    else if (in->opsize == 4)
        cpu->gpr[in->opnd[0].reg] = reg32;
    else
        cpu_set_reg16(cpu, in->opnd[0].reg, mem16);
}

static void sys_set_zf(struct cpu *cpu, bool zf)
{
    uint32_t flags = cpu_get_eflags(cpu) & ~FL_ZF;
    lf_set_eager(cpu, flags | (zf ? FL_ZF : 0));
}

static uint32_t sys_cr0(const struct cpu *cpu)
{
    return cpu->cr0 | CR0_ET;
}

/* ---- descriptor-table registers ---------------------------------------- */

static void sys_store_dtr(struct cpu *cpu, const struct insn *in, const struct dtr *dtr)
{
    sys_require_mem(cpu, in, 0);
    uint32_t ea = insn_ea(cpu, in);
    uint32_t base = in->opsize == 2 ? dtr->base & 0x00FFFFFFu : dtr->base;
    cpu_check_access(cpu, in->seg, ea, 6, MEM_WRITE);
    cpu_write16(cpu, in->seg, ea, dtr->limit);
    cpu_write32(cpu, in->seg, ea + 2, base);
}

static void exec_sgdt(struct cpu *cpu, const struct insn *in) { sys_store_dtr(cpu, in, &cpu->gdtr); }
static void exec_sidt(struct cpu *cpu, const struct insn *in) { sys_store_dtr(cpu, in, &cpu->idtr); }

static void sys_load_dtr(struct cpu *cpu, const struct insn *in, struct dtr *dtr)
{
    sys_require_mem(cpu, in, 0);
    sys_require_cpl0(cpu);
    uint32_t ea = insn_ea(cpu, in);
    uint16_t limit = cpu_read16(cpu, in->seg, ea);
    uint32_t base = cpu_read32(cpu, in->seg, ea + 2);
    if (in->opsize == 2)
        base &= 0x00FFFFFFu;
    dtr->limit = limit;
    dtr->base = base;
}

static void exec_lgdt(struct cpu *cpu, const struct insn *in) { sys_load_dtr(cpu, in, &cpu->gdtr); }
static void exec_lidt(struct cpu *cpu, const struct insn *in) { sys_load_dtr(cpu, in, &cpu->idtr); }

static void exec_sldt(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t sel = cpu->seg[SEG_LDTR].sel;
    sys_store_word_or_reg(cpu, in, sel, sel);
}

static void exec_str(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t sel = cpu->seg[SEG_TR].sel;
    sys_store_word_or_reg(cpu, in, sel, sel);
}

static void exec_lldt(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    sys_require_cpl0(cpu);
    uint16_t sel = sys_read16(cpu, in, 0);
    struct seg_cache *ldtr = &cpu->seg[SEG_LDTR];

    if ((sel & 0xFFFC) == 0) {          /* null: LDTR invalid, later LDT references #GP */
        *ldtr = (struct seg_cache){ .sel = sel, .valid = false };
        return;
    }
    struct desc d;
    if ((sel & 4) || !desc_fetch(cpu, sel, &d))
        cpu_raise(cpu, EXC_GP, SEL_ERROR(sel));
    if (desc_is_seg(d) || desc_type(d) != DESC_LDT)
        cpu_raise(cpu, EXC_GP, SEL_ERROR(sel));
    if (!desc_present(d))
        cpu_raise(cpu, EXC_NP, SEL_ERROR(sel));
    seg_cache_from_desc(ldtr, sel, d);
}

static void exec_ltr(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    sys_require_cpl0(cpu);
    uint16_t sel = sys_read16(cpu, in, 0);

    if ((sel & 0xFFFC) == 0)
        cpu_raise(cpu, EXC_GP, 0);
    struct desc d;
    if ((sel & 4) || !desc_fetch(cpu, sel, &d))
        cpu_raise(cpu, EXC_GP, SEL_ERROR(sel));
    int type = desc_type(d);
    if (desc_is_seg(d) || (type != DESC_TSS16_AVAIL && type != DESC_TSS32_AVAIL))
        cpu_raise(cpu, EXC_GP, SEL_ERROR(sel));
    if (!desc_present(d))
        cpu_raise(cpu, EXC_NP, SEL_ERROR(sel));
    d.hi |= 2u << 8;                    /* available -> busy */
    desc_store_hi(cpu, sel, d.hi);
    seg_cache_from_desc(&cpu->seg[SEG_TR], sel, d);
}

/* ---- CR0 word, control and debug registers ----------------------------- */

static void exec_smsw(struct cpu *cpu, const struct insn *in)
{
    uint32_t cr0 = sys_cr0(cpu);
    sys_store_word_or_reg(cpu, in, (uint16_t)cr0, cr0);
}

static void exec_lmsw(struct cpu *cpu, const struct insn *in)
{
    sys_require_cpl0(cpu);
    uint16_t msw = sys_read16(cpu, in, 0);
    uint32_t low4 = CR0_PE | CR0_MP | CR0_EM | CR0_TS;
    uint32_t cr0 = (cpu->cr0 & ~low4) | (msw & low4) | (cpu->cr0 & CR0_PE);   /* PE cannot be cleared */
    bool pe_changed = (cr0 ^ cpu->cr0) & CR0_PE;
    cpu->cr0 = cr0;
    if (pe_changed)
        cpu_tlb_flush(cpu, true);
}

static void exec_clts(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_cpl0(cpu);
    cpu->cr0 &= ~(uint32_t)CR0_TS;
}

/* The control/debug register number and the GPR of a MOV CRn/DRn. The
 * decoder gives them as operands; the ModRM fields are the fallback. */
static void sys_special_operands(const struct insn *in, int special_kind, int *special, int *gpr)
{
    *special = (in->modrm >> 3) & 7;
    *gpr = in->modrm & 7;
    for (int i = 0; i < in->nopnd && i < 3; i++) {
        if (in->opnd[i].kind == special_kind)
            *special = in->opnd[i].reg;
        else if (in->opnd[i].kind == OPND_REG)
            *gpr = in->opnd[i].reg;
    }
}

static void sys_write_cr0(struct cpu *cpu, uint32_t value)
{
    uint32_t cr0 = (value & CPU_CR0_DEFINED) | CR0_ET;
    if ((cr0 & CR0_PG) && !(cr0 & CR0_PE))
        cpu_raise(cpu, EXC_GP, 0);
    if ((cr0 & CR0_NW) && !(cr0 & CR0_CD))
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t changed = cr0 ^ cpu->cr0;
    cpu->cr0 = cr0;
    if (changed & (CR0_PG | CR0_PE | CR0_WP))
        cpu_tlb_flush(cpu, true);
}

static void sys_write_cr4(struct cpu *cpu, uint32_t value)
{
    if (value & ~(uint32_t)CPU_CR4_VALID)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t changed = value ^ cpu->cr4;
    cpu->cr4 = value;
    if (changed & (CR4_PSE | CR4_PGE | CR4_PAE))
        cpu_tlb_flush(cpu, true);
}

static int sys_cr_operands(struct cpu *cpu, const struct insn *in, int *gpr)
{
    int crn;
    sys_special_operands(in, OPND_CREG, &crn, gpr);
    if (crn == 1 || crn > 4)
        cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
    sys_require_cpl0(cpu);
    return crn;
}

static void exec_mov_to_cr(struct cpu *cpu, const struct insn *in)
{
    int gpr;
    int crn = sys_cr_operands(cpu, in, &gpr);
    uint32_t value = cpu->gpr[gpr];
    switch (crn) {
    case 0: sys_write_cr0(cpu, value); break;
    case 2: cpu->cr2 = value; break;
    case 3: cpu->cr3 = value; cpu_tlb_flush(cpu, false); break;
    default: sys_write_cr4(cpu, value); break;
    }
}

static void exec_mov_from_cr(struct cpu *cpu, const struct insn *in)
{
    int gpr;
    int crn = sys_cr_operands(cpu, in, &gpr);
    uint32_t value;
    switch (crn) {
    case 0: value = sys_cr0(cpu); break;
    case 2: value = cpu->cr2; break;
    case 3: value = cpu->cr3; break;
    default: value = cpu->cr4; break;
    }
    cpu->gpr[gpr] = value;
}

static int sys_dr_operands(struct cpu *cpu, const struct insn *in, int *gpr)
{
    int drn;
    sys_special_operands(in, OPND_DREG, &drn, gpr);
    sys_require_cpl0(cpu);
    if (cpu->dr[7] & DR7_GD) {            /* general detect: fault before the access */
        cpu->dr[6] |= DR6_BD;
        cpu->dr[7] &= ~(uint32_t)DR7_GD;
        cpu_raise(cpu, EXC_DB, NO_ERROR_CODE);
    }
    if (drn == 4 || drn == 5) {
        if (cpu->cr4 & CR4_DE)
            cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);
        drn += 2;                          /* DR4/DR5 alias DR6/DR7 */
    }
    return drn;
}

static void exec_mov_to_dr(struct cpu *cpu, const struct insn *in)
{
    int gpr;
    int drn = sys_dr_operands(cpu, in, &gpr);
    uint32_t value = cpu->gpr[gpr];
    if (drn == 6)
        value = (value & DR6_WRITABLE) | DR6_FIXED_ONES;
    else if (drn == 7)
        value = (value & DR7_WRITABLE) | DR7_FIXED_ONES;
    cpu->dr[drn] = value;
}

static void exec_mov_from_dr(struct cpu *cpu, const struct insn *in)
{
    int gpr;
    int drn = sys_dr_operands(cpu, in, &gpr);
    cpu->gpr[gpr] = cpu->dr[drn];
}

/* ---- caches, TLB, halt, MSRs ------------------------------------------- */

static void exec_invd(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_cpl0(cpu);   /* no caches are modelled: nothing to invalidate */
}

static void exec_invlpg(struct cpu *cpu, const struct insn *in)
{
    sys_require_mem(cpu, in, 0);
    sys_require_cpl0(cpu);
    uint32_t lin = cpu->seg[in->seg].base + insn_ea(cpu, in);   /* no limit check, no fault */
    cpu_tlb_flush_page(cpu, lin);
}

static void exec_hlt(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_cpl0(cpu);
    cpu->halted = true;
}

static void exec_rdmsr(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_cpl0(cpu);
    uint64_t value;
    switch (cpu->gpr[R_ECX]) {
    case MSR_TSC:          value = cpu_tsc(cpu); break;
    case MSR_PLATFORM_ID:  value = 0; break;
    case MSR_BIOS_SIGN_ID: value = 0; break;
    case MSR_SYSENTER_CS:  value = cpu->sysenter_cs; break;
    case MSR_SYSENTER_ESP: value = cpu->sysenter_esp; break;
    case MSR_SYSENTER_EIP: value = cpu->sysenter_eip; break;
    case MSR_P6_PERFCTR0:
    case MSR_P6_PERFCTR0 + 1: value = cpu->perf_ctr[cpu->gpr[R_ECX] - MSR_P6_PERFCTR0]; break;
    case MSR_P6_EVNTSEL0:
    case MSR_P6_EVNTSEL0 + 1: value = cpu->perf_evtsel[cpu->gpr[R_ECX] - MSR_P6_EVNTSEL0]; break;
    default:
        if (!cpu->msr_hook || !cpu->msr_hook(cpu->msr_opaque, cpu->gpr[R_ECX], &value, false))
            cpu_raise(cpu, EXC_GP, 0);
    }
    cpu->gpr[R_EAX] = (uint32_t)value;
    cpu->gpr[R_EDX] = (uint32_t)(value >> 32);
}

static void exec_wrmsr(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_cpl0(cpu);
    uint32_t low = cpu->gpr[R_EAX];
    switch (cpu->gpr[R_ECX]) {
    case MSR_TSC: {
        /* P6: the low 32 bits are written, the high 32 cleared. The counter
         * is tsc_offset + elapsed virtual cycles; move the offset. */
        uint64_t elapsed = cpu_tsc(cpu) - cpu->tsc_offset;
        cpu->tsc_offset = (uint64_t)low - elapsed;
        break;
    }
    case MSR_BIOS_SIGN_ID: break;   /* no microcode to load */
    case MSR_SYSENTER_CS:  cpu->sysenter_cs = low; break;
    case MSR_SYSENTER_ESP: cpu->sysenter_esp = low; break;
    case MSR_SYSENTER_EIP: cpu->sysenter_eip = low; break;
    case MSR_P6_PERFCTR0:
    case MSR_P6_PERFCTR0 + 1:
        /* P6: the low 32 bits are written and bit 31 is sign-extended to bit 39. */
        cpu->perf_ctr[cpu->gpr[R_ECX] - MSR_P6_PERFCTR0] =
            (uint64_t)(int64_t)(int32_t)low & 0xFFFFFFFFFFull;
        break;
    case MSR_P6_EVNTSEL0:
    case MSR_P6_EVNTSEL0 + 1: cpu->perf_evtsel[cpu->gpr[R_ECX] - MSR_P6_EVNTSEL0] = low; break;
    default: {
        uint64_t value = (uint64_t)cpu->gpr[R_EDX] << 32 | low;
        if (!cpu->msr_hook || !cpu->msr_hook(cpu->msr_opaque, cpu->gpr[R_ECX], &value, true))
            cpu_raise(cpu, EXC_GP, 0);
    }
    }
}

/* ---- SYSENTER / SYSEXIT ------------------------------------------------- */

/* The flat 4 GiB segment SYSENTER/SYSEXIT load without reading the GDT. */
static void sys_load_flat(struct seg_cache *sc, uint16_t sel, int dpl, bool code)
{
    uint16_t access = code ? 0x9B : 0x93;   /* P, S, type 11 (code ER accessed) / 3 (data RW accessed) */
    sc->sel = sel;
    sc->base = 0;
    sc->limit = 0xFFFFFFFFu;
    sc->flags = (uint16_t)(access | (dpl << SEGF_DPL_SHIFT) | SEGF_DB | SEGF_G);
    sc->valid = true;
}

static void exec_sysenter(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (!cpu_protected(cpu) || (cs & 0xFFFC) == 0)
        cpu_raise(cpu, EXC_GP, 0);
    cpu->eflags &= ~(uint32_t)(FL_VM | FL_IF | FL_RF);
    sys_load_flat(&cpu->seg[SEG_CS], cs & 0xFFFC, 0, true);
    sys_load_flat(&cpu->seg[SEG_SS], (uint16_t)((cs & 0xFFFC) + 8), 0, false);
    cpu->cpl = 0;
    cpu->gpr[R_ESP] = cpu->sysenter_esp;
    cpu->next_eip = cpu->sysenter_eip;
}

static void exec_sysexit(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint16_t cs = (uint16_t)cpu->sysenter_cs;
    if (!cpu_protected(cpu) || (cs & 0xFFFC) == 0 || sys_cpl(cpu) != 0)
        cpu_raise(cpu, EXC_GP, 0);
    sys_load_flat(&cpu->seg[SEG_CS], (uint16_t)((cs + 16) | 3), 3, true);
    sys_load_flat(&cpu->seg[SEG_SS], (uint16_t)((cs + 24) | 3), 3, false);
    cpu->cpl = 3;
    cpu->gpr[R_ESP] = cpu->gpr[R_ECX];
    cpu->next_eip = cpu->gpr[R_EDX];
}

/* ---- interrupt flag, I/O, EFLAGS image --------------------------------- */

/* CLI/STI: allowed in real mode, at CPL <= IOPL, and in V86 with IOPL 3. */
static void sys_require_iopl(struct cpu *cpu)
{
    if (!cpu_protected(cpu))
        return;
    if (cpu_v86(cpu) ? cpu_iopl(cpu) < 3 : cpu->cpl > cpu_iopl(cpu))
        cpu_raise(cpu, EXC_GP, 0);
}

static void exec_cli(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_iopl(cpu);
    cpu->eflags &= ~(uint32_t)FL_IF;
}

static void exec_sti(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    sys_require_iopl(cpu);
    if (!(cpu->eflags & FL_IF)) {
        cpu->eflags |= FL_IF;
        cpu->irq_inhibit = 1;   /* the next instruction completes first */
    }
}

void cpu_check_io(struct cpu *cpu, uint16_t port, int size)
{
    if (!cpu_protected(cpu))
        return;
    if (!cpu_v86(cpu) && cpu->cpl <= cpu_iopl(cpu))
        return;
    /* V86 (IOPL is not consulted) or CPL > IOPL: the TSS I/O bitmap decides.
     * Only a 32-bit TSS has one; both bytes read must lie within its limit. */
    const struct seg_cache *tr = &cpu->seg[SEG_TR];
    int type = tr->flags & 0xF;
    if (!tr->valid || (tr->flags & SEGF_S) ||
        (type != DESC_TSS32_AVAIL && type != DESC_TSS32_BUSY) || tr->limit < 0x67)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t bitmap_off = cpu_lin_read16(cpu, tr->base + 0x66, MEM_READ | MEM_SYSTEM);
    uint32_t byte_off = bitmap_off + port / 8u;
    if (byte_off + 1 > tr->limit)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t bits = cpu_lin_read16(cpu, tr->base + byte_off, MEM_READ | MEM_SYSTEM);
    uint32_t wanted = ((1u << size) - 1) << (port & 7);
    if (bits & wanted)
        cpu_raise(cpu, EXC_GP, 0);
}

/* IN acc, imm8/DX: opnd0 the accumulator, opnd1 the port. */
static void exec_in(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[0].size;
    uint16_t port = (uint16_t)insn_opnd_read(cpu, in, 1);
    cpu_check_io(cpu, port, size);
    uint32_t value = ioport_read(cpu->io, port, size);
    cpu_reg_write(cpu, R_EAX, value, size);
}

/* OUT imm8/DX, acc: opnd0 the port, opnd1 the accumulator. */
static void exec_out(struct cpu *cpu, const struct insn *in)
{
    int size = in->opnd[1].size;
    uint16_t port = (uint16_t)insn_opnd_read(cpu, in, 0);
    cpu_check_io(cpu, port, size);
    ioport_write(cpu->io, port, cpu_reg_read(cpu, R_EAX, size), size);
}

static void exec_pushf(struct cpu *cpu, const struct insn *in)
{
    if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
        cpu_raise(cpu, EXC_GP, 0);
    uint32_t image = cpu_get_eflags(cpu) & ~(uint32_t)(FL_VM | FL_RF);
    cpu_push(cpu, image & size_mask(in->opsize), in->opsize);
}

static void exec_popf(struct cpu *cpu, const struct insn *in)
{
    if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
        cpu_raise(cpu, EXC_GP, 0);
    /* Never changed by POPF: VM, VIF, VIP, reserved bits. RF is cleared by
     * the 32-bit form. IOPL only at CPL 0, IF only at CPL <= IOPL (V86 with
     * IOPL 3 counts as CPL 3 <= IOPL); otherwise silently kept. */
    uint32_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
    int cpl = sys_cpl(cpu);
    if (cpl == 0 && !cpu_v86(cpu))
        mask |= FL_IOPL;
    if (cpl <= cpu_iopl(cpu))
        mask |= FL_IF;
    uint32_t value = cpu_pop(cpu, in->opsize);
    if (in->opsize == 2)
        mask &= 0xFFFFu;
    else
        mask |= FL_RF;               /* RF <- 0 (bit 16 of the popped value ignored) */
    cpu_set_eflags(cpu, value & ~(uint32_t)FL_RF, mask);
}

/* ---- descriptor inspection: LAR LSL VERR VERW ARPL ---------------------- */

/* The descriptor named by sel if it exists (not null, within its table). */
static bool sys_lookup(struct cpu *cpu, uint16_t sel, struct desc *d)
{
    if ((sel & 0xFFFC) == 0)
        return false;
    return desc_fetch(cpu, sel, d);
}

static bool sys_is_conforming_code(struct desc d)
{
    return desc_is_code(d) && (d.hi & (1u << 10));
}

/* DPL >= CPL and DPL >= RPL, waived for conforming code segments. */
static bool sys_privilege_ok(const struct cpu *cpu, uint16_t sel, struct desc d)
{
    if (sys_is_conforming_code(d))
        return true;
    int dpl = desc_dpl(d);
    return dpl >= cpu->cpl && dpl >= (sel & 3);
}

/* System types LAR accepts: TSS (16/32, available/busy), LDT, call gates,
 * task gate. LSL: those with a limit (TSS and LDT). SDM LAR/LSL tables. */
#define LAR_SYSTEM_TYPES ((1u << DESC_TSS16_AVAIL) | (1u << DESC_LDT) | (1u << DESC_TSS16_BUSY) | \
                          (1u << DESC_CALLGATE16) | (1u << DESC_TASKGATE) | \
                          (1u << DESC_TSS32_AVAIL) | (1u << DESC_TSS32_BUSY) | (1u << DESC_CALLGATE32))
#define LSL_SYSTEM_TYPES ((1u << DESC_TSS16_AVAIL) | (1u << DESC_LDT) | (1u << DESC_TSS16_BUSY) | \
                          (1u << DESC_TSS32_AVAIL) | (1u << DESC_TSS32_BUSY))

static bool sys_lar_lsl_ok(struct cpu *cpu, uint16_t sel, struct desc *d, uint32_t system_types)
{
    if (!sys_lookup(cpu, sel, d))
        return false;
    if (!desc_is_seg(*d) && !(system_types & (1u << desc_type(*d))))
        return false;
    return sys_privilege_ok(cpu, sel, *d);
}

static void exec_lar(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t sel = sys_read16(cpu, in, 1);
    struct desc d;
    bool ok = sys_lar_lsl_ok(cpu, sel, &d, LAR_SYSTEM_TYPES);
    if (ok) {
        if (in->opsize == 4)
            cpu->gpr[in->opnd[0].reg] = d.hi & 0x00F0FF00u;
        else
            cpu_set_reg16(cpu, in->opnd[0].reg, (uint16_t)(d.hi & 0xFF00u));
    }
    sys_set_zf(cpu, ok);
}

static void exec_lsl(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t sel = sys_read16(cpu, in, 1);
    struct desc d;
    bool ok = sys_lar_lsl_ok(cpu, sel, &d, LSL_SYSTEM_TYPES);
    if (ok) {
        uint32_t limit = desc_limit(d);
        if (in->opsize == 4)
            cpu->gpr[in->opnd[0].reg] = limit;
        else
            cpu_set_reg16(cpu, in->opnd[0].reg, (uint16_t)limit);
    }
    sys_set_zf(cpu, ok);
}

/* VERR: a data segment, or a readable code segment; VERW: a writable data
 * segment. Privilege as for a data segment load (conforming code exempt).
 * The present bit is not checked. */
static void exec_verr(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t sel = sys_read16(cpu, in, 0);
    struct desc d;
    bool ok = sys_lookup(cpu, sel, &d) && desc_is_seg(d) &&
              (!desc_is_code(d) || (d.hi & (1u << 9))) &&
              sys_privilege_ok(cpu, sel, d);
    sys_set_zf(cpu, ok);
}

static void exec_verw(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t sel = sys_read16(cpu, in, 0);
    struct desc d;
    bool ok = sys_lookup(cpu, sel, &d) && desc_is_seg(d) && !desc_is_code(d) &&
              (d.hi & (1u << 9)) && sys_privilege_ok(cpu, sel, d);
    sys_set_zf(cpu, ok);
}

static void exec_arpl(struct cpu *cpu, const struct insn *in)
{
    sys_require_pmode(cpu);
    uint16_t dest = sys_read16(cpu, in, 0);
    uint16_t src = sys_read16(cpu, in, 1);
    bool adjust = (dest & 3) < (src & 3);
    if (adjust)
        sys_write16(cpu, in, 0, (uint16_t)((dest & ~3u) | (src & 3u)));
    sys_set_zf(cpu, adjust);
}

/* ---- identification, counters, the rest --------------------------------- */

static void exec_cpuid(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    uint32_t regs[4];
    cpuid_query_cpu(cpu, cpu->gpr[R_EAX], cpu->gpr[R_ECX], regs);
    cpu->gpr[R_EAX] = regs[0];
    cpu->gpr[R_EBX] = regs[1];
    cpu->gpr[R_ECX] = regs[2];
    cpu->gpr[R_EDX] = regs[3];
}

static void exec_rdtsc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if ((cpu->cr4 & CR4_TSD) && sys_cpl(cpu) != 0)
        cpu_raise(cpu, EXC_GP, 0);
    uint64_t tsc = cpu_tsc(cpu);
    cpu->gpr[R_EAX] = (uint32_t)tsc;
    cpu->gpr[R_EDX] = (uint32_t)(tsc >> 32);
}

static void exec_rdpmc(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if (!(cpu->cr4 & CR4_PCE) && sys_cpl(cpu) != 0)
        cpu_raise(cpu, EXC_GP, 0);
    if (cpu->gpr[R_ECX] > 1)
        cpu_raise(cpu, EXC_GP, 0);
    cpu->gpr[R_EAX] = 0;   /* P6 counters 0/1 exist but never count here */
    cpu->gpr[R_EDX] = 0;
}

static void exec_ud(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    cpu_raise(cpu, EXC_UD, NO_ERROR_CODE);   /* UD2; RSM outside SMM (there is no SMM) */
}

static void exec_wait(struct cpu *cpu, const struct insn *in)
{
    (void)in;
    if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise(cpu, EXC_NM, NO_ERROR_CODE);
    fpu_check_pending(cpu);   /* #MF, or FERR# when CR0.NE = 0 */
}

void exec_register_sysinsn(exec_fn *table)
{
    table[OP_SGDT] = exec_sgdt;
    table[OP_SIDT] = exec_sidt;
    table[OP_SLDT] = exec_sldt;
    table[OP_STR] = exec_str;
    table[OP_SMSW] = exec_smsw;
    table[OP_LGDT] = exec_lgdt;
    table[OP_LIDT] = exec_lidt;
    table[OP_LLDT] = exec_lldt;
    table[OP_LTR] = exec_ltr;
    table[OP_LMSW] = exec_lmsw;
    table[OP_CLTS] = exec_clts;
    table[OP_MOV_TO_CR] = exec_mov_to_cr;
    table[OP_MOV_FROM_CR] = exec_mov_from_cr;
    table[OP_MOV_TO_DR] = exec_mov_to_dr;
    table[OP_MOV_FROM_DR] = exec_mov_from_dr;
    table[OP_INVD] = exec_invd;
    table[OP_WBINVD] = exec_invd;
    table[OP_INVLPG] = exec_invlpg;
    table[OP_HLT] = exec_hlt;
    table[OP_RDMSR] = exec_rdmsr;
    table[OP_WRMSR] = exec_wrmsr;
    table[OP_SYSENTER] = exec_sysenter;
    table[OP_SYSEXIT] = exec_sysexit;
    table[OP_CLI] = exec_cli;
    table[OP_STI] = exec_sti;
    table[OP_IN] = exec_in;
    table[OP_OUT] = exec_out;
    table[OP_PUSHF] = exec_pushf;
    table[OP_POPF] = exec_popf;
    table[OP_LAR] = exec_lar;
    table[OP_LSL] = exec_lsl;
    table[OP_VERR] = exec_verr;
    table[OP_VERW] = exec_verw;
    table[OP_ARPL] = exec_arpl;
    table[OP_CPUID] = exec_cpuid;
    table[OP_RDTSC] = exec_rdtsc;
    table[OP_RDPMC] = exec_rdpmc;
    table[OP_RSM] = exec_ud;
    table[OP_UD2] = exec_ud;
    table[OP_WAIT] = exec_wait;
}
