/* tests/baremetal/tb_smc.c: self-modifying code, the translator's hardest
 * bad input (issue 5: "a write invalidates exactly the affected blocks,
 * including a block that modifies itself or the next instruction").
 *
 *   - a store that rewrites the very next instruction: its imm32, its
 *     opcode byte, and two one-byte instructions turned into one of two
 *     bytes (x86: the store is seen by the next fetch); the same imm32
 *     written by every kind of store: read-modify-write (INC, ADD, SHL,
 *     NOT, XCHG, LOCK XADD, LOCK CMPXCHG, BTS), SETcc, POP to memory, PUSH
 *     and CALL (ESP pointed into the code), STOSW, MOVSD, FISTP, and a
 *     dword store split across two code pages;
 *   - a loop that patches an instruction earlier in its own block on every
 *     iteration, the sequence of values checked; the same many thousand
 *     times (code rewritten faster than it runs: the cache must just keep
 *     working and stay within its budget);
 *   - code on another page patched from C, then called, a thousand times;
 *   - with paging: code patched through a second linear alias of its page,
 *     and called through the alias after a patch through the first address;
 *     CALL/POP run at both addresses (one physical block, two EIPs); code
 *     that remaps its own page (PTE store, INVLPG) and goes on in the new;
 *   - an instruction across a page end (MOV EAX, imm32: opcode and imm byte
 *     0 on one page, bytes 1-3 on the next), run many times (a decoded
 *     copy may be cached), then patched on either page and run again;
 *   - a page of code rewritten by REP STOSB / REP MOVSB between calls, and a
 *     REP STOSB that overwrites the instructions right after itself;
 *   - DMA: the fw_cfg DMA interface (port 0x514/0x518, in QEMU and fox86)
 *     copies the 4-byte signature "QEMU" (push ecx; inc ebp; dec ebp;
 *     push ebp: valid code) over translated code, from another block and
 *     over the instructions right after the OUT that starts it.
 *
 * Every check prints a line with the value expected, so fox86's transcript
 * equals QEMU's when both are right. */
#include "runtime.h"

#define ALIAS_LIN  0x003FF000u   /* a free 4 KB page of page_table0's range */

/* uint32_t fn(uint32_t v): call fn with EAX = v (tail jump: fn returns to
 * our caller); lets C enter code that reads its input in EAX. */
uint32_t smc_next_imm(uint32_t v);
uint32_t smc_next_op(uint32_t opcode);
uint32_t smc_next_op2(uint32_t two_bytes);
uint32_t smc_loop(uint32_t count, uint32_t *out);
uint32_t smc_loop_sum(uint32_t count);
uint32_t smc_rep_self(void);
uint32_t smc_page(void);
uint32_t smc_cross(void);
uint32_t smc_page_where(void);
uint32_t dma_fn(void);
uint32_t dma_next(uint32_t desc_phys);
uint32_t dma_next_sync(uint32_t desc_phys);
extern uint8_t smc_loop_insn[], smc_loop_sum_insn[], smc_rep_self_slot[], dma_fn_slot[], dma_next_slot[],
               dma_next_sync_slot[];

asm(
    ".text\n"

    /* the store rewrites the imm32 of the next instruction */
    ".globl smc_next_imm\n"
    "smc_next_imm:\n"
    "  mov 4(%esp), %eax\n"
    "  mov %eax, 1f+1\n"
    "1: mov $0x11111111, %eax\n"
    "  ret\n"

    /* the store rewrites the opcode of the next (one-byte) instruction */
    ".globl smc_next_op\n"
    "smc_next_op:\n"
    "  mov 4(%esp), %eax\n"
    "  mov $100, %edx\n"
    "  movb %al, 1f\n"
    "1: nop\n"
    "  mov %edx, %eax\n"
    "  ret\n"

    /* two bytes: one instruction of two bytes or two of one */
    ".globl smc_next_op2\n"
    "smc_next_op2:\n"
    "  mov 4(%esp), %eax\n"
    "  mov $100, %edx\n"
    "  movw %ax, 1f\n"
    "1: nop\n"
    "  nop\n"
    "  mov %edx, %eax\n"
    "  ret\n"

    /* out[i] = the imm32 of smc_loop_insn, which iteration i-1 set to 3i+7 */
    ".globl smc_loop, smc_loop_insn\n"
    "smc_loop:\n"
    "  push %ebx\n"
    "  push %edi\n"
    "  mov 12(%esp), %ecx\n"
    "  mov 16(%esp), %edi\n"
    "  xor %ebx, %ebx\n"
    "smc_loop_insn:\n"
    "  mov $0, %eax\n"
    "  mov %eax, (%edi)\n"
    "  add $4, %edi\n"
    "  inc %ebx\n"
    "  lea 7(%ebx,%ebx,2), %edx\n"
    "  mov %edx, smc_loop_insn+1\n"
    "  dec %ecx\n"
    "  jnz smc_loop_insn\n"
    "  pop %edi\n"
    "  pop %ebx\n"
    "  ret\n"

    /* the same, summing instead of storing: for many iterations */
    ".globl smc_loop_sum, smc_loop_sum_insn\n"
    "smc_loop_sum:\n"
    "  push %ebx\n"
    "  push %esi\n"
    "  mov 12(%esp), %ecx\n"
    "  xor %ebx, %ebx\n"
    "  xor %esi, %esi\n"
    "smc_loop_sum_insn:\n"
    "  mov $0, %eax\n"
    "  add %eax, %esi\n"
    "  inc %ebx\n"
    "  lea 7(%ebx,%ebx,2), %edx\n"
    "  mov %edx, smc_loop_sum_insn+1\n"
    "  dec %ecx\n"
    "  jnz smc_loop_sum_insn\n"
    "  mov %esi, %eax\n"
    "  pop %esi\n"
    "  pop %ebx\n"
    "  ret\n"

    /* REP STOSB turns the 5-byte MOV after it into five NOPs: EAX stays 0x90 */
    ".globl smc_rep_self, smc_rep_self_slot\n"
    "smc_rep_self:\n"
    "  push %edi\n"
    "  lea smc_rep_self_slot, %edi\n"
    "  mov $5, %ecx\n"
    "  mov $0x90, %eax\n"
    "  rep stosb\n"
    "smc_rep_self_slot:\n"
    "  mov $0x12345678, %eax\n"
    "  pop %edi\n"
    "  ret\n"

    /* 4 NOPs the fw_cfg DMA overwrites with "QEMU": 8 bytes pushed */
    ".globl dma_fn, dma_fn_slot\n"
    "dma_fn:\n"
    "  mov %esp, %edx\n"
    "dma_fn_slot:\n"
    "  nop\n nop\n nop\n nop\n"
    "  sub %esp, %edx\n"
    "  add %edx, %esp\n"
    "  mov %edx, %eax\n"
    "  ret\n"

    /* the OUT that runs the DMA, then the 4 bytes it overwrites */
    ".globl dma_next, dma_next_slot\n"
    "dma_next:\n"
    "  mov 4(%esp), %eax\n"
    "  bswap %eax\n"
    "  mov $0x518, %edx\n"
    "  mov %esp, %ecx\n"
    "  out %eax, (%dx)\n"
    "dma_next_slot:\n"
    "  nop\n nop\n nop\n nop\n"
    "  sub %esp, %ecx\n"
    "  add %ecx, %esp\n"
    "  mov %ecx, %eax\n"
    "  ret\n"

    /* the same with CPUID (serializing) and a jump between the OUT and those bytes */
    ".globl dma_next_sync, dma_next_sync_slot\n"
    "dma_next_sync:\n"
    "  push %ebx\n"
    "  push %esi\n"
    "  mov 12(%esp), %eax\n"
    "  bswap %eax\n"
    "  mov $0x518, %edx\n"
    "  mov %esp, %esi\n"
    "  out %eax, (%dx)\n"
    "  xor %eax, %eax\n"
    "  cpuid\n"
    "  jmp dma_next_sync_slot\n"   /* QEMU runs on in its block after CPUID: a jump ends it */
    "dma_next_sync_slot:\n"
    "  nop\n nop\n nop\n nop\n"
    "  sub %esp, %esi\n"
    "  add %esi, %esp\n"
    "  mov %esi, %eax\n"
    "  pop %esi\n"
    "  pop %ebx\n"
    "  ret\n"

    /* every way an instruction writes memory, aimed at the imm32 of the
     * MOV after it (SMC_SLOT: mov $0x100, %eax; ret) */
#define SMC_W(name, body) \
    ".globl smc_w_" #name ", smc_w_" #name "_slot\n" \
    "smc_w_" #name ":\n" body \
    "smc_w_" #name "_slot:\n  mov $0x100, %eax\n  ret\n"
    SMC_W(inc,     "  incl smc_w_inc_slot+1\n")
    SMC_W(add,     "  addl $0x20, smc_w_add_slot+1\n")
    SMC_W(shl,     "  shll $4, smc_w_shl_slot+1\n")
    SMC_W(not,     "  notl smc_w_not_slot+1\n")
    SMC_W(xchg,    "  mov $0x333, %edx\n  xchg %edx, smc_w_xchg_slot+1\n")
    SMC_W(xadd,    "  mov $0x10, %edx\n  lock xadd %edx, smc_w_xadd_slot+1\n")
    SMC_W(cmpxchg, "  mov $0x100, %eax\n  mov $0x444, %edx\n  lock cmpxchg %edx, smc_w_cmpxchg_slot+1\n")
    SMC_W(bts,     "  btsl $12, smc_w_bts_slot+1\n")
    SMC_W(setcc,   "  xor %edx, %edx\n  sete smc_w_setcc_slot+1\n")
    SMC_W(pop,     "  push $0x555\n  popl smc_w_pop_slot+1\n")
    SMC_W(push,    "  mov %esp, %ecx\n  mov $smc_w_push_slot+5, %esp\n  push $0x666\n  mov %ecx, %esp\n")
    SMC_W(call,    "  mov %esp, %ecx\n  mov $smc_w_call_slot+5, %esp\n  call smc_w_call_ret\n"
                   ".globl smc_w_call_ret\nsmc_w_call_ret:\n  mov %ecx, %esp\n")
    SMC_W(stosw,   "  push %edi\n  mov $0x777, %eax\n  mov $smc_w_stosw_slot+1, %edi\n  stosw\n  pop %edi\n")
    SMC_W(movsd,   "  push %esi\n  push %edi\n  mov $smc_w_value, %esi\n  mov $smc_w_movsd_slot+1, %edi\n"
                   "  movsl\n  pop %edi\n  pop %esi\n")
    SMC_W(fistp,   "  fninit\n  fildl smc_w_value\n  fistpl smc_w_fistp_slot+1\n")
#undef SMC_W
    /* a dword store across a page boundary: the last byte of one page, the
     * MOV's opcode and imm bytes 0-1 at the start of the next */
    ".globl smc_w_split\n"
    "smc_w_split:\n"
    "  mov smc_w_split_word, %eax\n"
    "  mov %eax, smc_w_split_slot-1\n"
    "  jmp smc_w_split_slot\n"

    /* uint32_t remap(uint32_t *pte, uint32_t new_pte, uint32_t lin): maps
     * lin (where it runs) elsewhere and goes on at the next instruction of
     * the new page; copied to two pages, 1 in one and 2 in the other */
    ".globl remap_tpl, remap_tpl_mov, remap_tpl_end\n"
    "remap_tpl:\n"
    "  mov 4(%esp), %ecx\n"
    "  mov 8(%esp), %edx\n"
    "  mov 12(%esp), %eax\n"
    "  mov %edx, (%ecx)\n"
    "  invlpg (%eax)\n"
    "remap_tpl_mov:\n"
    "  mov $1, %eax\n"
    "  ret\n"
    "remap_tpl_end:\n"

    /* MOV EAX, imm32 across a page end: B8 and imm byte 0 end one page */
    ".section .text.smc_cross, \"ax\"\n"
    ".balign 4096\n"
    ".skip 4094, 0x90\n"
    ".globl smc_cross\n"
    "smc_cross:\n"
    "  mov $0x11223344, %eax\n"
    "  ret\n"

    /* a page of its own */
    ".section .text.smc_page, \"ax\"\n"
    ".balign 4096\n"
    ".globl smc_page\n"
    "smc_page:\n"
    "  mov $0, %eax\n"
    "  ret\n"
    ".balign 16, 0xcc\n"
    ".globl smc_page_where\n"
    "smc_page_where:\n"                 /* its own linear address (+5) */
    "  call 1f\n"
    "1: pop %eax\n"
    "  ret\n"
    ".balign 4096, 0xcc\n"
    ".globl smc_w_split_slot\n"
    "smc_w_split_slot:\n"
    "  mov $0x100, %eax\n"
    "  ret\n"
    ".balign 4096, 0xcc\n"
    ".text\n");

#define SMC_W_LIST(X) X(inc) X(add) X(shl) X(not) X(xchg) X(xadd) X(cmpxchg) X(bts) X(setcc) \
                       X(pop) X(push) X(call) X(stosw) X(movsd) X(fistp) X(split)
#define SMC_W_DECLARE(name) uint32_t smc_w_##name(void); extern uint8_t smc_w_##name##_slot[];
SMC_W_LIST(SMC_W_DECLARE)
extern uint8_t smc_w_call_ret[];
uint32_t smc_w_value = 0x888, smc_w_split_word;

static uint8_t rep_page[4096] __attribute__((aligned(4096)));
static uint8_t remap_pages[2][4096] __attribute__((aligned(4096)));
extern uint8_t remap_tpl[], remap_tpl_mov[], remap_tpl_end[];
static uint32_t loop_out[64];

static void set_imm(uint8_t *insn, uint32_t v)
{
    memcpy(insn + 1, &v, 4);
}

static void rep_stosb(void *dst, uint8_t v, uint32_t n)
{
    asm volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(v) : "memory");
}

static void rep_movsb(void *dst, const void *src, uint32_t n)
{
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
}

static void next_instruction(void)
{
    static const uint32_t values[] = { 0x12345678u, 0xCAFEBABEu, 0, 0xFFFFFFFFu, 0x12345678u };
    for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint32_t got = smc_next_imm(values[i]);
        CHECK(got == values[i], "store to the next instruction's imm32: %x", values[i]);
    }
    uint32_t sum = 0, want = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        sum += smc_next_imm(i * 0x9E3779B9u);
        want += i * 0x9E3779B9u;
    }
    CHECK(sum == want, "1000 rewrites of the next imm32: sum %x", want);

    static const struct { uint8_t op; uint32_t want; } ops[] = {
        { 0x42, 101 }, { 0x4A, 99 }, { 0x90, 100 }, { 0x42, 101 }, { 0x42, 101 },
    };
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        CHECK(smc_next_op(ops[i].op) == ops[i].want, "store to the next opcode %x: edx %u",
              ops[i].op, ops[i].want);

    static const struct { uint16_t bytes; uint32_t want; } ops2[] = {
        { 0x4242, 102 }, { 0x07B2, 7 }, { 0x9090, 100 }, { 0x07B2, 7 }, { 0x424A, 100 }, { 0x4242, 102 },
    };
    for (unsigned i = 0; i < sizeof(ops2) / sizeof(ops2[0]); i++)
        CHECK(smc_next_op2(ops2[i].bytes) == ops2[i].want,
              "store to the next two bytes %04x: edx %u", ops2[i].bytes, ops2[i].want);
}

static void write_paths(void)
{
    static const struct { const char *name; uint32_t (*fn)(void); uint8_t *slot; uint32_t want; } w[] = {
#define SMC_W_ENTRY(name) { #name, smc_w_##name, smc_w_##name##_slot, 0 },
        SMC_W_LIST(SMC_W_ENTRY)
#undef SMC_W_ENTRY
    };
    for (unsigned i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        uint32_t want;
        switch (i) {
        case 0: want = 0x101; break;
        case 1: want = 0x120; break;
        case 2: want = 0x1000; break;
        case 3: want = ~0x100u; break;
        case 4: want = 0x333; break;
        case 5: want = 0x110; break;
        case 6: want = 0x444; break;
        case 7: want = 0x1100; break;
        case 8: want = 0x101; break;
        case 9: want = 0x555; break;
        case 10: want = 0x666; break;
        case 11: want = (uint32_t)smc_w_call_ret; break;
        case 12: want = 0x777; break;
        case 13: want = 0x888; break;
        case 14: want = 0x888; break;
        default: want = 0xABCD; break;   /* split: imm bytes 0-1 become CD AB */
        }
        /* split: the byte before and the opcode B8 stored unchanged */
        smc_w_split_word = (uint32_t)*(volatile uint8_t *)((uint32_t)smc_w_split_slot - 1) | 0xB8u << 8 | 0xABCD00u << 8;
        bool ok = true;
        for (int round = 0; round < 3; round++) {
            set_imm(w[i].slot, 0x100);
            ok = ok && w[i].fn() == want;
        }
        CHECK(ok, "%s writes the next instruction's imm32, 3 rounds", w[i].name);
    }
}

static void loop_patching_itself(void)
{
    for (int round = 0; round < 3; round++) {
        set_imm(smc_loop_insn, 0);
        memset(loop_out, 0xEE, sizeof(loop_out));
        smc_loop(64, loop_out);
        bool ok = loop_out[0] == 0;
        for (uint32_t i = 1; i < 64; i++)
            ok = ok && loop_out[i] == 3 * i + 7;
        CHECK(ok, "loop patching its own earlier instruction, round %d: 0, 10, 13, ... %u",
              round, loop_out[63]);
    }
    uint32_t n = 2000, want = 0;
    for (uint32_t i = 1; i < n; i++)
        want += 3 * i + 7;
    set_imm(smc_loop_sum_insn, 0);
    CHECK(smc_loop_sum(n) == want, "loop rewriting itself %u times: sum %u", n, want);
    set_imm(smc_loop_sum_insn, 0);
    CHECK(smc_loop_sum(n) == want, "and again: sum %u", want);
}

static void other_page(void)
{
    uint8_t *code = (uint8_t *)smc_page;
    uint32_t sum = 0, want = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        set_imm(code, i * 7 + 1);
        sum += smc_page();
        want += i * 7 + 1;
    }
    CHECK(sum == want, "code on its own page patched then called 1000 times: sum %u", want);
}

static void across_pages(void)
{
    volatile uint8_t *imm = (volatile uint8_t *)smc_cross + 1;   /* imm[0] ends the first page */
    uint32_t want = 0x11223344;
    for (int round = 0; round < 4; round++) {
        uint32_t same = 0;
        for (int i = 0; i < 100; i++)
            same += smc_cross() == want;
        CHECK(same == 100, "MOV across a page end, round %d: eax %08x 100 times", round, want);
        if (round & 1) {
            imm[0] = (uint8_t)(0x55 + round);   /* the byte on the first page */
            want = (want & 0xFFFFFF00u) | (uint8_t)(0x55 + round);
        } else {
            imm[2] = (uint8_t)(0xA0 + round);   /* a byte on the second page */
            want = (want & 0xFF00FFFFu) | (uint32_t)(uint8_t)(0xA0 + round) << 16;
        }
        CHECK(smc_cross() == want, "patched on the %s page: eax %08x", round & 1 ? "first" : "second",
              want);
    }
}

static void linear_alias(void)
{
    uint32_t phys = (uint32_t)smc_page;
    paging_identity();
    page_table0[ALIAS_LIN >> 12] = phys | PTE_P | PTE_W;
    invlpg(ALIAS_LIN);
    uint8_t *alias = (uint8_t *)ALIAS_LIN;
    uint32_t (*alias_fn)(void) = (uint32_t (*)(void))ALIAS_LIN;

    set_imm((uint8_t *)phys, 0x1111);
    CHECK(smc_page() == 0x1111 && alias_fn() == 0x1111, "paging: the code page and its alias run");
    for (uint32_t i = 0; i < 4; i++) {
        set_imm(alias, 0xA000 + i);
        CHECK(smc_page() == 0xA000 + i, "patched through the alias, called at its address: %x", 0xA000 + i);
        set_imm((uint8_t *)phys, 0xB000 + i);
        CHECK(alias_fn() == 0xB000 + i, "patched at its address, called through the alias: %x", 0xB000 + i);
        set_imm(alias, 0xC000 + i);
        CHECK(alias_fn() == 0xC000 + i, "patched and called through the alias: %x", 0xC000 + i);
    }
    /* the same physical code at two linear addresses, EIP-relative */
    uint32_t where_off = (uint32_t)smc_page_where - phys;
    uint32_t (*alias_where)(void) = (uint32_t (*)(void))(ALIAS_LIN + where_off);
    for (int i = 0; i < 3; i++)
        CHECK(smc_page_where() == (uint32_t)smc_page_where + 5 && alias_where() == ALIAS_LIN + where_off + 5,
              "CALL/POP at both linear addresses of one page: each its own EIP");
    /* the running code's page remapped under it (PTE store, INVLPG): the
     * next instruction comes from the new page */
    uint32_t len = (uint32_t)(remap_tpl_end - remap_tpl);
    for (int k = 0; k < 2; k++) {
        memcpy(remap_pages[k], remap_tpl, len);
        set_imm(remap_pages[k] + (remap_tpl_mov - remap_tpl), (uint32_t)k + 1);
    }
    volatile uint32_t *alias_pte = &page_table0[ALIAS_LIN >> 12];
    uint32_t pte_a = (uint32_t)remap_pages[0] | PTE_P | PTE_W, pte_b = (uint32_t)remap_pages[1] | PTE_P | PTE_W;
    uint32_t (*remap)(volatile uint32_t *, uint32_t, uint32_t) =
        (uint32_t (*)(volatile uint32_t *, uint32_t, uint32_t))ALIAS_LIN;
    *alias_pte = pte_a;
    invlpg(ALIAS_LIN);
    bool same = true, switched = true;
    for (int i = 0; i < 5; i++) {
        same = same && remap(alias_pte, pte_a, ALIAS_LIN) == 1;
        switched = switched && remap(alias_pte, pte_b, ALIAS_LIN) == 2 && remap(alias_pte, pte_b, ALIAS_LIN) == 2;
        switched = switched && remap(alias_pte, pte_a, ALIAS_LIN) == 1;
    }
    CHECK(same && switched, "code remapping its own page (PTE + INVLPG): the next instruction from the new page");
    page_table0[ALIAS_LIN >> 12] = ALIAS_LIN | PTE_P | PTE_W | PTE_U;
    invlpg(ALIAS_LIN);
    paging_off();
}

/* rep_page: xor eax,eax; 4093 fill bytes; ret */
static uint32_t run_rep_page(void)
{
    return ((uint32_t (*)(void))rep_page)();
}

static void rep_strings(void)
{
    static const uint8_t head[2] = { 0x31, 0xC0 }, ret = 0xC3;
    static uint8_t decs[1000];
    rep_stosb(rep_page, 0x90, 4096);
    rep_movsb(rep_page, head, 2);
    rep_movsb(rep_page + 4095, &ret, 1);
    CHECK(run_rep_page() == 0, "page of NOPs built by rep stosb/movsb: eax 0");
    rep_stosb(rep_page + 2, 0x40, 4093);
    CHECK(run_rep_page() == 4093, "rep stosb made them INC EAX: eax 4093");
    memset(decs, 0x48, sizeof(decs));
    rep_movsb(rep_page + 2, decs, 1000);
    CHECK(run_rep_page() == 2093, "rep movsb made 1000 of them DEC EAX: eax 2093");
    rep_stosb(rep_page + 3000, 0x90, 1095);
    CHECK(run_rep_page() == 998, "rep stosb made the last 1095 NOPs: eax 998");
    rep_movsb(rep_page + 4000, decs, 95);
    CHECK(run_rep_page() == 903, "rep movsb made 95 of those DEC EAX: eax 903");

    for (int i = 0; i < 3; i++) {
        static const uint8_t mov[5] = { 0xB8, 0x78, 0x56, 0x34, 0x12 };
        memcpy(smc_rep_self_slot, mov, 5);
        CHECK(smc_rep_self() == 0x90, "rep stosb over the instruction after it: eax 90");
    }
}

/* fw_cfg DMA of the signature item (key 0, "QEMU") over 4 bytes of code */
struct fw_cfg_dma { uint32_t control, length, addr_high, addr_low; };
static struct fw_cfg_dma dma_desc __attribute__((aligned(16)));
#define FW_CFG_DMA_SELECT_READ 0x0Au   /* SELECT | READ, key 0 */

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }

static void dma_setup(void *dst)
{
    dma_desc = (struct fw_cfg_dma){ be32(FW_CFG_DMA_SELECT_READ), be32(4), 0, be32((uint32_t)dst) };
    asm volatile("outl %0, %1" :: "a"(0u), "Nd"((uint16_t)0x514) : "memory");   /* high half */
}

static void dma_to_code(void)
{
    static const uint8_t nops[4] = { 0x90, 0x90, 0x90, 0x90 };
    for (int i = 0; i < 3; i++) {
        memcpy(dma_fn_slot, nops, 4);
        CHECK(dma_fn() == 0 && dma_fn() == 0, "DMA round %d: NOPs before: 0 pushed", i);
        dma_setup(dma_fn_slot);
        asm volatile("outl %0, %1" :: "a"(be32((uint32_t)&dma_desc)), "Nd"((uint16_t)0x518) : "memory");
        CHECK(dma_desc.control == 0, "fw_cfg DMA done");
        CHECK(dma_fn() == 8, "fw_cfg DMA of \"QEMU\" over translated code: 8 bytes pushed");
    }
    /* Right after the OUT the old bytes may still run (OUT does not
     * serialize; QEMU runs them, fox86 the new ones); after CPUID and a
     * jump, the new. */
    for (int i = 0; i < 3; i++) {
        memcpy(dma_next_slot, nops, 4);
        dma_setup(dma_next_slot);
        uint32_t pushed = dma_next((uint32_t)&dma_desc);
        CHECK(pushed == 0 || pushed == 8,
              "fw_cfg DMA over the instructions after its OUT, round %d: old or new bytes run", i);
        memcpy(dma_next_sync_slot, nops, 4);
        dma_setup(dma_next_sync_slot);
        CHECK(dma_next_sync((uint32_t)&dma_desc) == 8,
              "the same with CPUID and JMP after the OUT, round %d: 8 bytes pushed", i);
    }
}

void test_main(void)
{
    next_instruction();
    write_paths();
    loop_patching_itself();
    other_page();
    across_pages();
    linear_alias();
    rep_strings();
    dma_to_code();
}
