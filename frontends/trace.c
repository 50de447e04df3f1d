/* frontends/trace.c: instruction and interrupt tracing (see trace.h).
 *
 * The hook sees the CPU between instructions only. An exception or
 * interrupt taken by instruction N is therefore noticed before instruction
 * N+1 (the first one of the handler): cpu->exceptions_taken has grown, and
 * cpu->pending_vector / pending_error still name what was delivered. A
 * software INT n is recognised from the previous instruction's mnemonic
 * when control did not fall through.
 */
#include "trace.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bios/multiboot.h"
#include "core/machine.h"

#define MAX_INSN_BYTES 15

struct trace {
    struct machine *machine;
    const struct guest_symbols *syms;
    csh cs16, cs32;
    bool     have_prev;           /* prev_* describe the instruction just executed */
    uint16_t prev_cs;
    uint32_t prev_eip;
    uint32_t prev_next_eip;       /* where it would fall through */
    bool     prev_soft_int;       /* it was INT n / INT3 / INTO */
    int      prev_cpl;
    uint64_t prev_exceptions;
};

/* Linear -> physical through the guest page tables, read-only (no A/D
 * updates, no faults). False if not mapped. */
static bool peek_translate(struct machine *m, uint32_t lin, uint32_t *phys)
{
    struct cpu *cpu = &m->cpu;
    if (!(cpu->cr0 & CR0_PG)) {
        *phys = lin;
        return true;
    }
    uint32_t pde = phys_read(&m->mem, (cpu->cr3 & ~0xFFFu) + (lin >> 22) * 4, 4);
    if (!(pde & 1))
        return false;
    if ((pde & 0x80) && (cpu->cr4 & CR4_PSE)) {
        *phys = (pde & 0xFFC00000u) | (lin & 0x3FFFFFu);
        return true;
    }
    uint32_t pte = phys_read(&m->mem, (pde & ~0xFFFu) + ((lin >> 12) & 0x3FF) * 4, 4);
    if (!(pte & 1))
        return false;
    *phys = (pte & ~0xFFFu) | (lin & 0xFFF);
    return true;
}

static size_t peek_code(struct machine *m, uint32_t lin, uint8_t *buf, size_t len)
{
    size_t n;
    for (n = 0; n < len; n++) {
        uint32_t phys;
        if (!peek_translate(m, lin + (uint32_t)n, &phys))
            break;
        buf[n] = (uint8_t)phys_read(&m->mem, phys, 1);
    }
    return n;
}

size_t trace_peek_linear(struct machine *m, uint32_t lin, uint8_t *buf, size_t len)
{
    return peek_code(m, lin, buf, len);
}

static void format_symbol(const struct trace *t, uint32_t lin, char *buf, size_t len)
{
    uint32_t off;
    const struct guest_symbol *s = t->syms ? guest_symbols_lookup(t->syms, lin, &off) : NULL;
    if (!s)
        buf[0] = '\0';
    else if (off)
        snprintf(buf, len, " <%s+0x%" PRIx32 ">", s->name, off);
    else
        snprintf(buf, len, " <%s>", s->name);
}

static void log_event(struct trace *t, struct cpu *cpu)
{
    struct machine *m = t->machine;
    bool fell_through = cpu->seg[SEG_CS].sel == t->prev_cs && cpu->eip == t->prev_next_eip;
    bool exception = cpu->exceptions_taken != t->prev_exceptions;
    if (!exception && !(t->prev_soft_int && !fell_through))
        return;
    char sym[128];
    format_symbol(t, cpu->seg[SEG_CS].base + cpu->eip, sym, sizeof(sym));
    if (exception) {
        char err[16] = "none";
        if (cpu->pending_error != NO_ERROR_CODE)
            snprintf(err, sizeof(err), "%04" PRIx32, cpu->pending_error);
        machine_log(m, LOG_INT, "int: v=%02x e=%s cpl=%d at %04x:%08" PRIx32
                    " -> %04x:%08" PRIx32 "%s CR2=%08" PRIx32 "\n",
                    cpu->pending_vector & 0xFF, err, t->prev_cpl, t->prev_cs, t->prev_eip,
                    cpu->seg[SEG_CS].sel, cpu->eip, sym, cpu->cr2);
    } else {
        machine_log(m, LOG_INT, "int: software interrupt cpl=%d at %04x:%08" PRIx32
                    " -> %04x:%08" PRIx32 "%s\n", t->prev_cpl, t->prev_cs, t->prev_eip,
                    cpu->seg[SEG_CS].sel, cpu->eip, sym);
    }
}

static void trace_step(struct cpu *cpu, void *opaque)
{
    struct trace *t = opaque;
    struct machine *m = t->machine;
    if (cpu->halted)
        return;
    bool int_log = machine_log_enabled(m, LOG_INT);
    if (!int_log && !(machine_log_enabled(m, LOG_IN_ASM) && machine_log_address(m, cpu->eip, 1)))
        return;   /* outside -dfilter: nothing to look at */
    if (t->have_prev && int_log)
        log_event(t, cpu);

    uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
    uint8_t bytes[MAX_INSN_BYTES];
    size_t avail = peek_code(m, lin, bytes, sizeof(bytes));
    bool code32 = cpu_protected(cpu) && !cpu_v86(cpu) && cpu_code32(cpu);
    cs_insn *insn = NULL;
    size_t count = avail ? cs_disasm(code32 ? t->cs32 : t->cs16, bytes, avail, cpu->eip, 1, &insn) : 0;

    t->have_prev = true;
    t->prev_cs = cpu->seg[SEG_CS].sel;
    t->prev_eip = cpu->eip;
    t->prev_cpl = cpu->cpl;
    t->prev_exceptions = cpu->exceptions_taken;
    t->prev_next_eip = cpu->eip + (count ? insn[0].size : 0);
    t->prev_soft_int = count && (strcmp(insn[0].mnemonic, "int") == 0
                                 || strcmp(insn[0].mnemonic, "int3") == 0
                                 || strcmp(insn[0].mnemonic, "into") == 0
                                 || strcmp(insn[0].mnemonic, "int1") == 0);

    if (machine_log_enabled(m, LOG_IN_ASM) && machine_log_address(m, cpu->eip, 1)) {
        char sym[128], hex[3 * MAX_INSN_BYTES + 1] = "";
        format_symbol(t, lin, sym, sizeof(sym));
        size_t shown = count ? insn[0].size : (avail ? 1 : 0);
        for (size_t i = 0; i < shown; i++)
            snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", bytes[i]);
        if (count)
            machine_log(m, LOG_IN_ASM, "%04x:%08" PRIx32 "%s  %-24s %s%s%s\n",
                        cpu->seg[SEG_CS].sel, cpu->eip, sym, hex, insn[0].mnemonic,
                        insn[0].op_str[0] ? " " : "", insn[0].op_str);
        else
            machine_log(m, LOG_IN_ASM, "%04x:%08" PRIx32 "%s  %-24s %s\n",
                        cpu->seg[SEG_CS].sel, cpu->eip, sym, hex,
                        avail ? "(bad)" : "<not mapped>");
    }
    if (insn)
        cs_free(insn, count);
}

struct trace *trace_attach(struct machine *m, const struct guest_symbols *syms,
                           char *err, size_t errlen)
{
    struct trace *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    t->machine = m;
    t->syms = syms;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &t->cs16) != CS_ERR_OK) {
        snprintf(err, errlen, "cannot initialise Capstone for tracing");
        free(t);
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs32) != CS_ERR_OK) {
        snprintf(err, errlen, "cannot initialise Capstone for tracing");
        cs_close(&t->cs16);
        free(t);
        return NULL;
    }
    cs_option(t->cs16, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
    cs_option(t->cs32, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL);
    m->cpu.insn_hook = trace_step;
    m->cpu.insn_hook_opaque = t;
    return t;
}

void trace_detach(struct trace *t)
{
    if (!t)
        return;
    if (t->machine->cpu.insn_hook_opaque == t) {
        t->machine->cpu.insn_hook = NULL;
        t->machine->cpu.insn_hook_opaque = NULL;
    }
    cs_close(&t->cs16);
    cs_close(&t->cs32);
    free(t);
}
