/* tests/hostdiff/interp_side.c: runs a host-differential case in fox86.
 *
 * The native runner executes a case as a 32-bit Linux process at CPL 3 with
 * flat segments; here the same case runs on a fox86 CPU in the same
 * architectural situation, built from nothing but architecture:
 *   - paging maps the sandbox's linear addresses (code read-only, data
 *     read-write, both user) and leaves every other user address unmapped,
 *     so stray accesses raise the same #PF the host kernel reports;
 *   - a supervisor-only area at 0xC0000000 holds the GDT, IDT, TSS, a ring-0
 *     stack and 256 one-byte exception handlers, each a HLT;
 *   - the guest runs at CPL 3; an exception is delivered through the IDT to
 *     ring 0 exactly as hardware would, the handler's HLT stops the CPU, and
 *     the vector, error code and interrupted state are read back from the
 *     ring-0 stack frame;
 *   - the case ends at the exit point, where a HLT at CPL 3 raises #GP(0).
 * So the test also exercises interrupt delivery with a privilege change.
 */
#include "interp_side.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "ioport.h"
#include "mem.h"
#include "phys.h"
#include "translator/tcache.h"

/* guest-physical layout */
enum {
    PA_PAGE_DIR    = 0x1000,
    PA_PT_CODE     = 0x2000,   /* maps HD_CODE_BASE */
    PA_PT_DATA     = 0x3000,   /* maps HD_DATA_BASE */
    PA_PT_SYSTEM   = 0x4000,   /* maps SYS_LINEAR */
    PA_GDT         = 0x8000,
    PA_IDT         = 0x8100,
    PA_TSS         = 0x9000,
    PA_HANDLERS    = 0xA000,   /* handler for vector v at PA_HANDLERS + v */
    PA_STACK0_TOP  = 0xC000,
    PA_CODE        = 0x10000,
    PA_DATA        = 0x20000,  /* 16 pages */
    RAM_SIZE       = 1 << 20,
};
#define SYS_LINEAR 0xC0000000u
#define SYS(pa) (SYS_LINEAR + (uint32_t)(pa))

enum { SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x1B, SEL_DATA3 = 0x23, SEL_TSS = 0x28 };

#define PTE_P 1u
#define PTE_W 2u
#define PTE_U 4u

/* Instructions a case may run before it counts as a timeout. */
#define HD_INSN_BUDGET 2000000u

struct sandbox {
    struct phys_mem mem;
    struct ioport_map io;
    struct cpu cpu;
    struct tcache *tcache;        /* FOX86_HOSTDIFF_ENGINE=portable|native: the translator runs the cases */
    uint8_t data[HD_DATA_SIZE];   /* staging copy of the data region */
};

static void put32(struct phys_mem *pm, uint32_t pa, uint32_t v)
{
    phys_write(pm, pa, v, 4);
}

static void put_desc(struct phys_mem *pm, uint32_t pa, uint32_t base, uint32_t limit, uint32_t access,
                     uint32_t flags)
{
    uint32_t lo = (limit & 0xFFFF) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xFF) | (access << 8) | (limit & 0xF0000) | (flags << 20) |
                  (base & 0xFF000000u);
    put32(pm, pa, lo);
    put32(pm, pa + 4, hi);
}

static void set_seg(struct cpu *cpu, int seg, uint16_t sel, uint32_t access)
{
    cpu->seg[seg] = (struct seg_cache){
        .sel = sel, .base = 0, .limit = 0xFFFFFFFFu,
        .flags = (uint16_t)(access | SEGF_DB | SEGF_G), .valid = true,
    };
}

/* Full x87 tag for a non-empty register, as FSAVE reports it. */
static uint16_t fpu_tag_of(const struct fpu_reg *r)
{
    uint16_t exp = r->sign_exp & 0x7FFF;
    if (exp == 0 && r->mant == 0)
        return 1;                                   /* zero */
    if (exp == 0x7FFF || exp == 0 || !(r->mant >> 63))
        return 2;                                   /* special: NaN, inf, denormal, unnormal */
    return 0;                                       /* valid */
}

static void fpu_from_case(struct fpu *f, const struct hd_fpu *h)
{
    int top = (h->fsw >> FPU_SW_TOP_SHIFT) & 7;
    f->cw = h->fcw;
    f->sw = h->fsw;
    f->fop = h->fop;
    f->fip = h->fip;
    f->fcs = h->fcs;
    f->fdp = h->fdp;
    f->fds = h->fds;
    f->tw = 0;
    for (int i = 0; i < 8; i++) {
        struct fpu_reg *r = &f->r[(top + i) & 7];
        memcpy(&r->mant, h->st[i], 8);
        memcpy(&r->sign_exp, h->st[i] + 8, 2);
    }
    /* As FRSTOR: only empty / not empty is taken from the image (the tags
     * are kept abridged: fpu.h). */
    for (int phys = 0; phys < 8; phys++) {
        uint16_t tag = ((h->ftw >> (2 * phys)) & 3) == 3 ? 3 : 0;
        f->tw |= (uint16_t)(tag << (2 * phys));
    }
}

static void fpu_to_result(struct hd_fpu *h, const struct fpu *f)
{
    int top = (f->sw >> FPU_SW_TOP_SHIFT) & 7;
    h->fcw = f->cw;
    h->fsw = f->sw;
    h->fop = f->fop;
    h->fip = f->fip;
    h->fcs = f->fcs;
    h->fdp = f->fdp;
    h->fds = f->fds;
    h->ftw = 0;
    for (int phys = 0; phys < 8; phys++) {
        uint16_t tag = ((f->tw >> (2 * phys)) & 3) == 3 ? 3 : fpu_tag_of(&f->r[phys]);
        h->ftw |= (uint16_t)(tag << (2 * phys));
    }
    for (int i = 0; i < 8; i++) {
        const struct fpu_reg *r = &f->r[(top + i) & 7];
        memcpy(h->st[i], &r->mant, 8);
        memcpy(h->st[i] + 8, &r->sign_exp, 2);
    }
}

static void build_system(struct sandbox *sb, const struct hd_case *c)
{
    struct phys_mem *pm = &sb->mem;
    /* Clear the system area through phys_load (never host pointers: the
     * decoded-instruction cache watches writes to code pages). */
    static const uint8_t zero_page[4096];
    for (uint32_t pa = 0; pa < PA_CODE; pa += sizeof zero_page)
        phys_load(pm, pa, zero_page, sizeof zero_page);

    /* page directory and tables */
    put32(pm, PA_PAGE_DIR + 4 * (HD_CODE_BASE >> 22), PA_PT_CODE | PTE_P | PTE_W | PTE_U);
    put32(pm, PA_PAGE_DIR + 4 * (HD_DATA_BASE >> 22), PA_PT_DATA | PTE_P | PTE_W | PTE_U);
    put32(pm, PA_PAGE_DIR + 4 * (SYS_LINEAR >> 22), PA_PT_SYSTEM | PTE_P | PTE_W);
    put32(pm, PA_PT_CODE + 4 * ((HD_CODE_BASE >> 12) & 0x3FF), PA_CODE | PTE_P | PTE_U);
    for (uint32_t i = 0; i < HD_DATA_SIZE / 4096; i++)
        put32(pm, PA_PT_DATA + 4 * (((HD_DATA_BASE >> 12) + i) & 0x3FF),
              (PA_DATA + 4096 * i) | PTE_P | PTE_W | PTE_U);
    for (uint32_t i = 0; i < 0x10; i++)                 /* system area: first 64 KiB, supervisor */
        put32(pm, PA_PT_SYSTEM + 4 * i, (4096 * i) | PTE_P | PTE_W);

    /* GDT: flat ring-0 and ring-3 code/data, and the TSS */
    put_desc(pm, PA_GDT + 0x08, 0, 0xFFFFF, 0x9B, 0xC);
    put_desc(pm, PA_GDT + 0x10, 0, 0xFFFFF, 0x93, 0xC);
    put_desc(pm, PA_GDT + 0x18, 0, 0xFFFFF, 0xFB, 0xC);
    put_desc(pm, PA_GDT + 0x20, 0, 0xFFFFF, 0xF3, 0xC);
    put_desc(pm, PA_GDT + 0x28, SYS(PA_TSS), 0x67, 0x8B, 0x0);   /* busy 32-bit TSS */

    /* IDT: a ring-0 interrupt gate per vector, DPL 0 so INT n from ring 3
     * faults (#GP) as under Linux, except the vectors Linux lets user code
     * raise with INT3 and INTO, which are DPL 3. */
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t handler = SYS(PA_HANDLERS) + v;
        uint32_t dpl = (v == EXC_BP || v == EXC_OF) ? 3 : 0;
        put32(pm, PA_IDT + 8 * v, (handler & 0xFFFF) | ((uint32_t)SEL_CODE0 << 16));
        put32(pm, PA_IDT + 8 * v + 4, (handler & 0xFFFF0000u) | 0x8E00u | (dpl << 13));
        phys_write(pm, PA_HANDLERS + v, 0xF4, 1);       /* HLT */
    }

    /* TSS: the ring-0 stack */
    put32(pm, PA_TSS + 4, SYS(PA_STACK0_TOP));
    put32(pm, PA_TSS + 8, SEL_DATA0);
    put32(pm, PA_TSS + 0x64, 0x00680000u);              /* I/O map base beyond the limit: no bitmap */

    /* the case: code, then a HLT at the exit point, then int3 filler as the runner does */
    uint8_t code[4096];
    memset(code, 0xCC, sizeof code);
    memcpy(code, c->code, c->code_len);
    code[c->code_len] = 0xF4;
    phys_load(pm, PA_CODE, code, sizeof code);

    hd_fill_data(sb->data, c->data_seed);
    hd_apply_patches(sb->data, c);
    phys_load(pm, PA_DATA, sb->data, HD_DATA_SIZE);
}

static void build_cpu(struct sandbox *sb, const struct hd_case *c)
{
    struct cpu *cpu = &sb->cpu;
    cpu_reset(cpu);
    cpu->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;   /* as Linux runs user code */
    cpu->cr3 = PA_PAGE_DIR;
    cpu->cr4 = 0;
    cpu_tlb_flush(cpu, true);
    cpu->gdtr = (struct dtr){ SYS(PA_GDT), 0x2F };
    cpu->idtr = (struct dtr){ SYS(PA_IDT), 0x7FF };
    cpu->seg[SEG_TR] = (struct seg_cache){ .sel = SEL_TSS, .base = SYS(PA_TSS), .limit = 0x67,
                                           .flags = 0x8B, .valid = true };
    cpu->seg[SEG_LDTR] = (struct seg_cache){ 0 };
    set_seg(cpu, SEG_CS, SEL_CODE3, 0xFB);
    set_seg(cpu, SEG_SS, SEL_DATA3, 0xF3);
    set_seg(cpu, SEG_DS, SEL_DATA3, 0xF3);
    set_seg(cpu, SEG_ES, SEL_DATA3, 0xF3);
    set_seg(cpu, SEG_FS, SEL_DATA3, 0xF3);
    set_seg(cpu, SEG_GS, SEL_DATA3, 0xF3);
    cpu->cpl = 3;
    memcpy(cpu->gpr, c->regs.gpr, sizeof cpu->gpr);
    cpu->eip = c->regs.eip;
    cpu_set_eflags(cpu, (c->regs.eflags & HD_EFLAGS_CASE) | HD_EFLAGS_FIXED, 0xFFFFFFFFu);
    fpu_from_case(&cpu->fpu, &c->fpu);
}

static bool vector_has_error_code(uint32_t v)
{
    return v == EXC_DF || (v >= EXC_TS && v <= EXC_PF) || v == EXC_AC;
}

int hd_interp_init(struct hd_interp **out)
{
    struct sandbox *sb = calloc(1, sizeof *sb);   /* reused by every case */
    if (!sb || phys_init(&sb->mem, RAM_SIZE) != 0) {
        free(sb);
        return -1;
    }
    ioport_map_init(&sb->io);
    cpu_init(&sb->cpu, &sb->mem, &sb->io);
    const char *engine = getenv("FOX86_HOSTDIFF_ENGINE");
    bool native = engine && strcmp(engine, "native") == 0;
    if (engine && (strcmp(engine, "portable") == 0 || native)) {
        /* FOX86_HOSTDIFF_LOCKSTEP=1: every block also against the interpreter,
         * undefined flags included (the host comparison masks them) */
        struct tcache_config cfg = { .backend = native ? TCACHE_NATIVE : TCACHE_PORTABLE,
                                     .lockstep = getenv("FOX86_HOSTDIFF_LOCKSTEP") != NULL };
        if (!(sb->tcache = tcache_create(&cfg)))
            return -1;
        sb->cpu.engine = tcache_engine(sb->tcache);
    }
    *out = (struct hd_interp *)sb;
    return 0;
}

void hd_interp_free(struct hd_interp *handle)
{
    struct sandbox *sb = (struct sandbox *)handle;
    cpu_destroy(&sb->cpu);
    if (sb->tcache && getenv("FOX86_HOSTDIFF_STATS")) {
        char text[4096];
        tcache_format_stats(sb->tcache, text, sizeof text);
        fputs(text, stderr);
    }
    tcache_destroy(sb->tcache);
    phys_free(&sb->mem);
    free(sb);
}

void hd_interp_run(struct hd_interp *handle, const struct hd_case *c, struct hd_result *r)
{
    struct sandbox *sb = (struct sandbox *)handle;
    struct cpu *cpu = &sb->cpu;
    memset(r, 0, sizeof *r);
    r->magic = HD_RESULT_MAGIC;
    r->case_id = c->case_id;
    if (c->magic != HD_CASE_MAGIC || c->code_len > HD_CODE_MAX) {
        r->status = HD_ST_BAD_CASE;
        return;
    }
    build_system(sb, c);
    build_cpu(sb, c);

    enum cpu_stop why = cpu_run(cpu, HD_INSN_BUDGET);
    if (sb->tcache && tcache_lockstep_failed(sb->tcache)) {
        fprintf(stderr, "hostdiff: lock-step difference (reported above) in case %u\n",
                (unsigned)c->case_id);
        exit(1);
    }
    uint32_t handler_base = SYS(PA_HANDLERS);
    if (why != CPU_STOP_HALT || cpu->eip <= handler_base || cpu->eip > handler_base + 256) {
        /* still in guest code: out of budget (or something stopped it) */
        r->status = HD_ST_TIMEOUT;
        memcpy(r->regs.gpr, cpu->gpr, sizeof r->regs.gpr);
        r->regs.eip = cpu->eip;
        r->regs.eflags = cpu_get_eflags(cpu);
        return;
    }

    uint32_t vector = cpu->eip - 1 - handler_base;
    uint32_t frame = cpu->gpr[R_ESP] - SYS_LINEAR;      /* physical address of the ring-0 frame */
    uint32_t error_code = 0;
    if (vector_has_error_code(vector)) {
        error_code = phys_read(&sb->mem, frame, 4);
        frame += 4;
    }
    uint32_t user_eip = phys_read(&sb->mem, frame, 4);
    uint32_t user_eflags = phys_read(&sb->mem, frame + 8, 4);
    uint32_t user_esp = phys_read(&sb->mem, frame + 12, 4);

    memcpy(r->regs.gpr, cpu->gpr, sizeof r->regs.gpr);
    r->regs.gpr[R_ESP] = user_esp;
    r->regs.eip = user_eip;
    r->regs.eflags = user_eflags & ~(uint32_t)FL_RF;
    fpu_to_result(&r->fpu, &cpu->fpu);

    phys_copy_out(&sb->mem, PA_DATA, sb->data, HD_DATA_SIZE);
    r->data_hash = hd_hash_data(sb->data);

    bool at_exit = vector == EXC_GP && error_code == 0 && user_eip == HD_CODE_BASE + c->code_len;
    if (at_exit) {
        r->status = HD_ST_OK;
    } else {
        r->status = HD_ST_FAULT;
        r->vector = vector;
        r->error_code = error_code;
        r->fault_addr = vector == EXC_PF ? cpu->cr2 : 0;
    }
}
