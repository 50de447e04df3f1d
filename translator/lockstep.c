/* translator/lockstep.c: the lock-step checker (-d lockstep).
 *
 * For every block: snapshot the CPU (struct cpu: registers, flags,
 * segment caches, CRs, x87, TLB), run the block translated, keep the
 * result and the contents of the RAM pages it wrote, restore the CPU and
 * those pages, run the same number of instructions through the
 * interpreter (cpu_engine_step), and compare registers, EFLAGS, segment
 * caches, CR0/2/3/4, CPL, the x87, the instruction count, whether and how
 * it faulted, and the written pages. The first difference stops the
 * machine with a one-screen report: guest address, the block's Capstone
 * disassembly and both states. The interpreter's result is what goes on.
 *
 * Written pages come from dirty logging (client PHYS_DIRTY_CODE, cleared
 * around each run); the checker keeps a reference copy of RAM as it was
 * before the block (refreshed from the pages any writer, a device too,
 * dirtied since), so it can put memory back. Restores go through
 * phys_load, so decoded code and shadow page tables see them.
 *
 * Not repeatable: blocks with port I/O run once, interpreted, and are not
 * compared. MMIO is not detected: run the machine with -icount-style
 * deterministic time so device registers read the same twice, and treat
 * a difference in a block that touches MMIO with suspicion.
 */
#include "tcache_int.h"

#include <capstone/capstone.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "mmu/phys.h"

#define LS_MAX_PAGES 64          /* pages one block may write and still be compared */

struct lockstep {
    uint8_t  *reference;         /* RAM before the current block */
    uint32_t  ram_size;
    uint64_t *bits;              /* dirty bitmap scratch */
    uint32_t  pages[LS_MAX_PAGES];
    uint8_t  *after;             /* the translated run's contents of pages[] */
    uint32_t  npages;
    bool      ready;
    csh       cs16, cs32;
    bool      have_capstone;
    struct cpu snap, translated;
};

struct lockstep *lockstep_create(void)
{
    struct lockstep *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return NULL;
    ls->after = malloc((size_t)LS_MAX_PAGES * 4096u);
    if (!ls->after) {
        free(ls);
        return NULL;
    }
    ls->have_capstone = cs_open(CS_ARCH_X86, CS_MODE_16, &ls->cs16) == CS_ERR_OK &&
                        cs_open(CS_ARCH_X86, CS_MODE_32, &ls->cs32) == CS_ERR_OK;
    return ls;
}

void lockstep_destroy(struct lockstep *ls)
{
    if (ls->have_capstone) {
        cs_close(&ls->cs16);
        cs_close(&ls->cs32);
    }
    free(ls->reference);
    free(ls->bits);
    free(ls->after);
    free(ls);
}

/* Pages written since the last call, reported through fn; returns count. */
static uint32_t dirty_pages(struct lockstep *ls, struct cpu *cpu,
                            void (*fn)(struct lockstep *, struct cpu *, uint32_t page))
{
    struct phys_mem *pm = cpu->mem;
    uint32_t npages = ls->ram_size / 4096u;
    memset(ls->bits, 0, ((npages + 63) / 64) * sizeof(uint64_t));
    uint32_t n = phys_dirty_get_and_clear(pm, PHYS_DIRTY_CODE, 0, ls->ram_size, ls->bits);
    if (n && fn)
        for (uint32_t w = 0; w < (npages + 63) / 64; w++)
            for (uint64_t b = ls->bits[w]; b; b &= b - 1)
                fn(ls, cpu, w * 64 + (uint32_t)__builtin_ctzll(b));
    cpu_tlb_sync(cpu);   /* clean pages lose direct write access */
    return n;
}

static void refresh_reference(struct lockstep *ls, struct cpu *cpu, uint32_t page)
{
    memcpy(ls->reference + (size_t)page * 4096u, cpu->mem->ram + (size_t)page * 4096u, 4096u);
}

static void note_page(struct lockstep *ls, struct cpu *cpu, uint32_t page)
{
    if (ls->npages < LS_MAX_PAGES) {
        memcpy(ls->after + (size_t)ls->npages * 4096u, cpu->mem->ram + (size_t)page * 4096u, 4096u);
        ls->pages[ls->npages] = page;
    }
    ls->npages++;
}

static void restore_page(struct lockstep *ls, struct cpu *cpu, uint32_t page)
{
    phys_load(cpu->mem, page * 4096u, ls->reference + (size_t)page * 4096u, 4096u);
}

static bool setup(struct lockstep *ls, struct cpu *cpu)
{
    struct phys_mem *pm = cpu->mem;
    ls->ram_size = pm->ram_size;
    ls->reference = malloc(pm->ram_size);
    ls->bits = calloc((pm->ram_size / 4096u + 63) / 64, sizeof(uint64_t));
    if (!ls->reference || !ls->bits || !pm->dirty)
        return false;
    phys_dirty_enable(pm, PHYS_DIRTY_CODE, true);
    memcpy(ls->reference, pm->ram, pm->ram_size);
    dirty_pages(ls, cpu, NULL);
    ls->ready = true;
    return true;
}

/* Run fn under our own fault scope; returns the vector it raised or -1. */
static int run_caught(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t target,
                      bool translated, bool *completed)
{
    jmp_buf env;
    jmp_buf *outer = cpu->fault_env;
    cpu->fault_env = &env;
    int vector = -1;
    if (setjmp(env) == 0) {
        if (translated)
            *completed = tc->run_block(tc, cpu, b, target);
        else
            while (cpu->icount < target)
                cpu_engine_step(cpu);
    } else {
        vector = cpu->pending_vector;
    }
    cpu->fault_env = outer;
    return vector;
}

static void put_state(FILE *f, const char *title, struct cpu *c, int vector)
{
    uint32_t fl = cpu_get_eflags(c);
    fprintf(f, "%s: EIP=%08" PRIx32 " EFLAGS=%08" PRIx32 " CPL=%u icount=%" PRIu64 " fault=%d\n",
            title, c->eip, fl, c->cpl, c->icount, vector);
    fprintf(f, "  EAX=%08" PRIx32 " ECX=%08" PRIx32 " EDX=%08" PRIx32 " EBX=%08" PRIx32 "\n",
            c->gpr[0], c->gpr[1], c->gpr[2], c->gpr[3]);
    fprintf(f, "  ESP=%08" PRIx32 " EBP=%08" PRIx32 " ESI=%08" PRIx32 " EDI=%08" PRIx32 "\n",
            c->gpr[4], c->gpr[5], c->gpr[6], c->gpr[7]);
    fprintf(f, "  ES=%04x CS=%04x SS=%04x DS=%04x FS=%04x GS=%04x CR0=%08" PRIx32 " CR2=%08" PRIx32
            " CR3=%08" PRIx32 "\n", c->seg[0].sel, c->seg[1].sel, c->seg[2].sel, c->seg[3].sel,
            c->seg[4].sel, c->seg[5].sel, c->cr0, c->cr2, c->cr3);
}

static const char *compare_cpu(struct cpu *t, struct cpu *i, int tv, int iv)
{
    if (tv != iv)
        return "fault";
    if (memcmp(t->gpr, i->gpr, sizeof(t->gpr)) != 0)
        return "general registers";
    if (t->eip != i->eip)
        return "EIP";
    if (cpu_get_eflags(t) != cpu_get_eflags(i))
        return "EFLAGS";
    for (int s = 0; s < SEG_COUNT; s++)
        if (t->seg[s].sel != i->seg[s].sel || t->seg[s].base != i->seg[s].base ||
            t->seg[s].limit != i->seg[s].limit || t->seg[s].flags != i->seg[s].flags ||
            t->seg[s].valid != i->seg[s].valid)
            return "segment registers";
    if (t->cr0 != i->cr0 || t->cr2 != i->cr2 || t->cr3 != i->cr3 || t->cr4 != i->cr4 ||
        t->cpl != i->cpl)
        return "control registers or CPL";
    if (t->icount != i->icount)
        return "instruction count";
    if (!fpu_same(&t->fpu, &i->fpu))
        return "x87 state";
    return NULL;
}

static void report(struct tcache *tc, struct cpu *cpu, const struct tblock *b, const char *what,
                   struct cpu *t, int tv, struct cpu *i, int iv)
{
    struct lockstep *ls = tc->lockstep;
    FILE *f = tc->cfg.report ? tc->cfg.report : stderr;
    fprintf(f, "fox86: lock-step difference (%s) in the block at %04x:%08" PRIx32
            " (physical %08" PRIx32 ", %u instructions)\n",
            what, ls->snap.seg[SEG_CS].sel, b->eip, b->phys, b->n);
    uint8_t bytes[4096];
    phys_copy_out(cpu->mem, b->phys, bytes, b->bytes);
    if (ls->have_capstone) {
        cs_insn *insn;
        size_t count = cs_disasm((b->mode & TMODE_CODE32) ? ls->cs32 : ls->cs16, bytes, b->bytes,
                                 b->eip, 0, &insn);
        for (size_t k = 0; k < count && k < 24; k++)
            fprintf(f, "  %08" PRIx64 "  %s %s\n", insn[k].address, insn[k].mnemonic, insn[k].op_str);
        if (count)
            cs_free(insn, count);
    }
    if (getenv("FOX86_LOCKSTEP_DEBUG")) {
        uint32_t pd = ls->snap.cr3 & ~0xFFFu;
        uint32_t r0, m0;
        memcpy(&r0, ls->reference + pd, 4);
        memcpy(&m0, cpu->mem->ram + pd, 4);
        fprintf(f, "  PDE0 reference %08x ram %08x\n", r0, m0);
    }
    put_state(f, "translated ", t, tv);
    put_state(f, "interpreted", i, iv);
    fflush(f);
}

bool lockstep_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end,
                        bool *completed)
{
    struct lockstep *ls = tc->lockstep;
    if (!ls->ready && !setup(ls, cpu))
        return false;
    dirty_pages(ls, cpu, refresh_reference);   /* what others wrote since the last block */
    if (b->has_io) {
        tc->stats.lockstep_skipped++;
        *completed = false;
        int v = run_caught(tc, cpu, b, cpu->icount + 1, false, completed);
        if (v >= 0)
            longjmp(*cpu->fault_env, 1);
        return true;
    }
    tc->stats.lockstep_blocks++;
    ls->snap = *cpu;
    bool done = false;
    int tv = run_caught(tc, cpu, b, end, true, &done);
    uint64_t target = cpu->icount;
    ls->translated = *cpu;
    ls->npages = 0;
    dirty_pages(ls, cpu, note_page);
    uint32_t translated_pages = ls->npages < LS_MAX_PAGES ? ls->npages : LS_MAX_PAGES;
    for (uint32_t k = 0; k < translated_pages; k++)
        restore_page(ls, cpu, ls->pages[k]);
    bool pages_compared = ls->npages <= LS_MAX_PAGES;
    *cpu = ls->snap;
    /* The snapshot's TLB is kept (not flushed: guests rely on stale
     * entries until INVLPG); dirty_pages syncs it with the clean pages. */
    dirty_pages(ls, cpu, NULL);

    int iv = run_caught(tc, cpu, b, target, false, completed);
    if (tv >= 0 && iv < 0)   /* the translated run faulted after target: so must this */
        iv = run_caught(tc, cpu, b, target + 1, false, completed);
    *completed = done;
    const char *what = compare_cpu(&ls->translated, cpu, tv, iv);
    if (!what && pages_compared) {
        for (uint32_t k = 0; k < translated_pages && !what; k++)
            if (memcmp(ls->after + (size_t)k * 4096u,
                       cpu->mem->ram + (size_t)ls->pages[k] * 4096u, 4096u) != 0)
                what = "memory";
    }
    /* Pages the interpreter wrote: those the translated run did not write
     * must still hold the reference (what the translated run left there);
     * then the reference moves on to the interpreter's memory. */
    uint32_t written[LS_MAX_PAGES];
    memcpy(written, ls->pages, translated_pages * sizeof(written[0]));
    ls->npages = 0;
    dirty_pages(ls, cpu, note_page);
    if (ls->npages > LS_MAX_PAGES)
        pages_compared = false;
    for (uint32_t k = 0; k < ls->npages && k < LS_MAX_PAGES; k++) {
        uint32_t page = ls->pages[k];
        bool by_translated = false;
        for (uint32_t j = 0; j < translated_pages; j++)
            by_translated |= written[j] == page;
        if (!what && pages_compared && !by_translated &&
            memcmp(ls->after + (size_t)k * 4096u, ls->reference + (size_t)page * 4096u, 4096u) != 0)
            what = "memory";
        memcpy(ls->reference + (size_t)page * 4096u, ls->after + (size_t)k * 4096u, 4096u);
    }
    if (what) {
        report(tc, cpu, b, what, &ls->translated, tv, cpu, iv);
        tc->lockstep_failed = true;
        if (tc->cfg.machine)
            machine_request_exit(tc->cfg.machine, 3);
        return false;
    }
    if (iv >= 0)
        longjmp(*cpu->fault_env, 1);
    return true;
}
