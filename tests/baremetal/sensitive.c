/* tests/baremetal/sensitive.c: the sensitive-but-unprivileged instructions
 * (docs: sensitive-instructions.md) executed at CPL 0 and at CPL 3 (IOPL 0):
 * SGDT, SIDT, SLDT, STR, SMSW, PUSHF, POPF (IF/IOPL changes silently dropped
 * at CPL 3), LAR, LSL, VERR, VERW on a set of selectors, PUSH CS and MOV
 * from SS (the RPL shows the CPL). None of them may fault; each prints what
 * it returned. The accessed bit is masked out of LAR results. */
#include "runtime.h"

#define LDT_INDEX   GDT_FIRST_FREE
#define SEL_LDT     (LDT_INDEX << 3)
#define IGATE_INDEX (GDT_FIRST_FREE + 1)      /* an interrupt gate in the GDT: invalid for LAR */
#define SEL_IGATE   (IGATE_INDEX << 3)
#define SEL_LDT_DATA 0x07                    /* LDT entry 0, TI = 1, RPL 3 */
#define VEC_EXIT    0x40

static uint64_t ldt[1];

static const struct { uint16_t sel; const char *name; } probes[] = {
    { 0x0000, "null" }, { SEL_KCODE, "kcode" }, { SEL_KDATA, "kdata" }, { SEL_UCODE, "ucode" },
    { SEL_UDATA, "udata" }, { SEL_CODE16, "code16" }, { SEL_TSS, "tss(busy)" }, { SEL_TSS2, "tss2" },
    { SEL_LDT, "ldt" }, { SEL_IGATE, "intgate" }, { SEL_LDT_DATA, "ldt data" }, { 0xFFF8, "beyond" },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

struct results {
    uint8_t  gdtr[6], idtr[6];
    uint16_t ldtr, tr, msw, cs, ss;
    uint32_t pushf, popf_after;
    uint32_t lar[NPROBES], lsl[NPROBES];
    uint8_t  lar_ok[NPROBES], lsl_ok[NPROBES], verr[NPROBES], verw[NPROBES];
};

static struct results res0, res3;
static uint8_t user_stack[4096] __attribute__((aligned(16)));

__attribute__((noinline)) static void collect(struct results *r)
{
    asm volatile("sgdt %0" : "=m"(r->gdtr));
    asm volatile("sidt %0" : "=m"(r->idtr));
    asm volatile("sldt %0" : "=m"(r->ldtr));
    asm volatile("str %0" : "=m"(r->tr));
    asm volatile("smsw %0" : "=m"(r->msw));
    uint32_t v;
    asm volatile("push %%cs; pop %0" : "=r"(v));
    r->cs = (uint16_t)v;
    asm volatile("mov %%ss, %0" : "=r"(v));
    r->ss = (uint16_t)v;
    asm volatile("pushf; pop %0" : "=r"(r->pushf));
    /* try to set IOPL 3 (and keep IF 0: an interrupt source may exist) */
    asm volatile("pushf; pop %%eax; or $0x3000, %%eax; push %%eax; popf; pushf; pop %0; "
                 "and $~0x3000, %%eax; push %%eax; popf"
                 : "=r"(r->popf_after) :: "eax", "cc");
    for (unsigned i = 0; i < NPROBES; i++) {
        uint32_t sel = probes[i].sel, out = 0;
        uint8_t zf;
        asm volatile("lar %2, %0; setz %1" : "+r"(out), "=q"(zf) : "r"(sel) : "cc");
        r->lar[i] = zf ? out & 0x00F0FE00u : 0;
        r->lar_ok[i] = zf;
        out = 0;
        asm volatile("lsl %2, %0; setz %1" : "+r"(out), "=q"(zf) : "r"(sel) : "cc");
        r->lsl[i] = zf ? out : 0;
        r->lsl_ok[i] = zf;
        asm volatile("verr %w1; setz %0" : "=q"(r->verr[i]) : "r"(sel) : "cc");
        asm volatile("verw %w1; setz %0" : "=q"(r->verw[i]) : "r"(sel) : "cc");
    }
}

static void user_entry(void)
{
    collect(&res3);
    asm volatile("int $0x40");
}

static void run_user(void *arg)
{
    enter_ring3(user_entry, (uint32_t)(user_stack + sizeof(user_stack)));
}

static void show(const char *ring, const struct results *r)
{
    uint16_t gl = (uint16_t)(r->gdtr[0] | r->gdtr[1] << 8), il = (uint16_t)(r->idtr[0] | r->idtr[1] << 8);
    uint32_t gb = r->gdtr[2] | r->gdtr[3] << 8 | r->gdtr[4] << 16 | (uint32_t)r->gdtr[5] << 24;
    uint32_t ib = r->idtr[2] | r->idtr[3] << 8 | r->idtr[4] << 16 | (uint32_t)r->idtr[5] << 24;
    printf_e9("%s: sgdt limit %x base %x, sidt limit %x base %x\n", ring, gl, gb, il, ib);
    CHECK(gl == sizeof(gdt) - 1 && gb == (uint32_t)gdt, "%s: SGDT is the kernel's GDT", ring);
    CHECK(il == 256 * 8 - 1, "%s: SIDT limit", ring);
    CHECK(r->ldtr == SEL_LDT && r->tr == SEL_TSS, "%s: SLDT %x STR %x", ring, r->ldtr, r->tr);
    CHECK((r->msw & 0xF) == 0x1, "%s: SMSW %x (PE=1 MP=EM=TS=0)", ring, r->msw);
    printf_e9("%s: push cs %x, mov ss %x, pushf %x, after popf(IOPL=3) %x\n", ring, r->cs, r->ss,
              r->pushf & 0x3F7FD7, r->popf_after & 0x3F7FD7);
    for (unsigned i = 0; i < NPROBES; i++)
        printf_e9("%s: %-10s %04x  lar %c %08x  lsl %c %08x  verr %u verw %u\n", ring, probes[i].name,
                  probes[i].sel, r->lar_ok[i] ? 'Z' : '-', r->lar[i], r->lsl_ok[i] ? 'Z' : '-',
                  r->lsl[i], r->verr[i], r->verw[i]);
}

void test_main(void)
{
    puts_e9("sensitive: SGDT SIDT SLDT STR SMSW PUSHF POPF LAR LSL VERR VERW PUSH CS at CPL 0 and 3\n");
    ldt[0] = (uint64_t)0xFFFF | (uint64_t)(ACC_P | ACC_DPL(3) | ACC_DATA) << 40 | (uint64_t)0xC << 52
           | (uint64_t)0xF << 48;
    gdt_set_seg(LDT_INDEX, (uint32_t)ldt, sizeof(ldt) - 1, ACC_P | ACC_LDT, 0);
    gdt_set_gate(IGATE_INDEX, SEL_KCODE, 0x1000, ACC_P | ACC_DPL(3) | ACC_INTGATE32, 0);
    asm volatile("lldt %w0" :: "r"(SEL_LDT));
    idt_set_default(VEC_EXIT, 3);

    collect(&res0);
    int v = run_catching(run_user, 0);
    CHECK(v == VEC_EXIT, "ring 3 collection ran without faults (ended by vector %x)", v);

    show("cpl0", &res0);
    CHECK(res0.cs == SEL_KCODE && res0.ss == SEL_KDATA, "cpl0: PUSH CS / MOV SS show RPL 0");
    CHECK((res0.popf_after & 0x3000) == 0x3000, "cpl0: POPF changed IOPL to 3");
    show("cpl3", &res3);
    CHECK(res3.cs == SEL_UCODE && res3.ss == SEL_UDATA, "cpl3: PUSH CS / MOV SS show RPL 3");
    CHECK((res3.popf_after & 0x3200) == 0, "cpl3: POPF change of IOPL silently ignored");
    CHECK(!res3.lar_ok[2] && !res3.verr[2] && res3.lar_ok[4] && res3.verw[4],
          "cpl3: kdata invisible to LAR/VERR, udata visible and writable");
    asm volatile("lldt %w0" :: "r"(0));
}
