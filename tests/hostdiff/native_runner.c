/*
 * native_runner.c - the host-CPU side of fox86's differential test.
 *
 * Runs hd_case records (see hostdiff.h) natively on this x86 CPU inside a
 * 32-bit Linux process and writes one hd_result per case.  The fox86 side
 * runs the same cases in the interpreter; a comparator diffs the results.
 *
 * Build (needs gcc-multilib):
 *   gcc -m32 -O2 -std=gnu17 -Wall -Wextra -Werror \
 *       tests/hostdiff/native_runner.c tests/hostdiff/gen.c -o native_runner
 *
 * Usage:
 *   native_runner [--text] < cases > results     binary hd_case in, hd_result
 *                                                 (or one text line) out
 *   native_runner --generate SEED COUNT [--text]  generate cases with gen.c
 *                                                 (case i uses seed SEED+i)
 *                                                 and run them
 *   native_runner --emit-cases SEED COUNT [--text] only write the generated
 *                                                 cases (text: hex dump)
 *   native_runner --hex "b8 01 00 00 00 ..."       run one handcrafted case
 *                                                 (fixed registers, see
 *                                                 make_hex_case), text out
 *   --timeout-ms N   watchdog period (default 250; a case is abandoned
 *                    after between N and 2N ms)
 *
 * How a case runs: the code is copied into a memfd page mapped read+exec at
 * HD_CODE_BASE (written through a second, writable alias), followed by a
 * `jmp hd_exit_guest`.  The data region is refilled and patched.  The asm
 * trampoline hd_enter_guest saves the host callee-saved registers, loads
 * the guest x87 state (frstor), EFLAGS (popf) and all eight GPRs including
 * ESP, and jumps to HD_CODE_BASE.  hd_exit_guest stores the GPRs to memory
 * before touching the stack, switches back to the host stack, then pushf
 * and fnsave.  Faults arrive as signals on an alternate stack; the handler
 * copies the state out of the ucontext and rewrites the ucontext so that
 * sigreturn lands in hd_resume_host on the host stack.  A periodic
 * SIGALRM acts as the watchdog for looping cases.
 *
 * Shared state: the asm stubs have no free register to find a context, so
 * all runner<->guest<->signal-handler state lives in one page at the fixed
 * address NATIVE_CTX_ADDR (struct native_ctx).  That page is the only
 * global state; everything else is passed as arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "gen.h"
#include "hostdiff.h"

#if !defined(__i386__)
#error "native_runner must be built for i386 (gcc -m32)"
#endif

#define NATIVE_CTX_ADDR 0x0E000000u
#define NATIVE_CTX_SIZE 0x1000u
#define ALT_STACK_SIZE (64u * 1024u)

/* Everything the asm stubs and the signal handler share (fixed address). */
struct native_ctx {
    uint32_t host_esp;          /* host ESP inside hd_enter_guest */
    uint32_t running;           /* 1 while guest code may be executing */
    uint32_t serial;            /* incremented per case (watchdog) */
    uint32_t tick_serial;       /* serial seen at the previous watchdog tick */
    uint32_t in_gpr[8];         /* initial GPRs, HD_EAX order */
    uint32_t in_eflags;
    uint32_t out_gpr[8];        /* final GPRs */
    uint32_t out_eflags;
    uint32_t entry_eip;         /* HD_CODE_BASE */
    uint32_t pad0;
    uint8_t in_fsave[HD_FSAVE_SIZE];
    uint8_t pad1[4];
    uint8_t out_fsave[HD_FSAVE_SIZE];
    uint8_t pad2[4];
    /* filled by the signal handler */
    uint32_t status;            /* enum hd_status */
    uint32_t vector;
    uint32_t error_code;
    uint32_t fault_addr;
    uint32_t fault_eip;
    int32_t signo;
    int32_t si_code;
    uint32_t have_fpregs;
};

/* offsets hard-coded in the asm below */
_Static_assert(offsetof(struct native_ctx, host_esp) == 0, "asm offset");
_Static_assert(offsetof(struct native_ctx, running) == 4, "asm offset");
_Static_assert(offsetof(struct native_ctx, in_gpr) == 16, "asm offset");
_Static_assert(offsetof(struct native_ctx, in_eflags) == 48, "asm offset");
_Static_assert(offsetof(struct native_ctx, out_gpr) == 52, "asm offset");
_Static_assert(offsetof(struct native_ctx, out_eflags) == 84, "asm offset");
_Static_assert(offsetof(struct native_ctx, entry_eip) == 88, "asm offset");
_Static_assert(offsetof(struct native_ctx, in_fsave) == 96, "asm offset");
_Static_assert(offsetof(struct native_ctx, out_fsave) == 208, "asm offset");
_Static_assert(sizeof(struct native_ctx) <= NATIVE_CTX_SIZE, "ctx page");

static inline struct native_ctx *native_ctx(void)
{
    return (struct native_ctx *)(uintptr_t)NATIVE_CTX_ADDR;
}

void hd_enter_guest(void);
void hd_exit_guest(void);
void hd_resume_host(void);
void hd_signal_entry(int, siginfo_t *, void *);
void hd_on_signal(int signo, siginfo_t *info, void *uc_void);

/*
 * Absolute addresses (NATIVE_CTX_ADDR + offset) need no relocation, so this
 * works in a PIE.  Register load/store order follows HD_EAX..HD_EDI.
 */
__asm__(
    ".set NCTX, 0x0E000000\n"
    ".text\n"
    ".globl hd_enter_guest\n"
    ".type hd_enter_guest, @function\n"
    "hd_enter_guest:\n"
    "    pushl %ebp\n"
    "    pushl %ebx\n"
    "    pushl %esi\n"
    "    pushl %edi\n"
    "    movl %esp, NCTX+0\n"
    "    frstor NCTX+96\n"
    "    pushl NCTX+48\n"
    "    movl $1, NCTX+4\n"
    "    popfl\n"                       /* may set DF and AC from here on */
    "    movl NCTX+16, %eax\n"
    "    movl NCTX+20, %ecx\n"
    "    movl NCTX+24, %edx\n"
    "    movl NCTX+28, %ebx\n"
    "    movl NCTX+36, %ebp\n"
    "    movl NCTX+40, %esi\n"
    "    movl NCTX+44, %edi\n"
    "    movl NCTX+32, %esp\n"
    "    jmp *NCTX+88\n"
    ".size hd_enter_guest, .-hd_enter_guest\n"
    "\n"
    ".globl hd_exit_guest\n"
    ".type hd_exit_guest, @function\n"
    "hd_exit_guest:\n"                  /* reached by the jmp after the case */
    "    movl %esp, NCTX+68\n"
    "    movl %eax, NCTX+52\n"
    "    movl %ecx, NCTX+56\n"
    "    movl %edx, NCTX+60\n"
    "    movl %ebx, NCTX+64\n"
    "    movl %ebp, NCTX+72\n"
    "    movl %esi, NCTX+76\n"
    "    movl %edi, NCTX+80\n"
    "    movl NCTX+0, %esp\n"
    "    pushfl\n"
    "    popl NCTX+84\n"
    "    pushl $0x202\n"
    "    popfl\n"                       /* host flags: DF=AC=0 */
    "    fnsave NCTX+208\n"
    "    movl $0, NCTX+4\n"
    ".globl hd_resume_host\n"
    "hd_resume_host:\n"                 /* the signal handler returns here too */
    "    cld\n"
    "    fninit\n"
    "    popl %edi\n"
    "    popl %esi\n"
    "    popl %ebx\n"
    "    popl %ebp\n"
    "    ret\n"
    ".size hd_exit_guest, .-hd_exit_guest\n"
    "\n"
    /* A guest may fault with EFLAGS.AC set, and the kernel keeps AC for the
       handler; clear it before any compiled code can do a misaligned access. */
    ".globl hd_signal_entry\n"
    ".type hd_signal_entry, @function\n"
    "hd_signal_entry:\n"
    "    pushfl\n"
    "    andl $0xFFFBFFFF, (%esp)\n"
    "    popfl\n"
    "    jmp hd_on_signal\n"
    ".size hd_signal_entry, .-hd_signal_entry\n");

/* Signal handler for guest faults and the watchdog (entered via hd_signal_entry). */
void hd_on_signal(int signo, siginfo_t *info, void *uc_void)
{
    struct native_ctx *ctx = native_ctx();
    ucontext_t *uc = uc_void;
    greg_t *gregs = uc->uc_mcontext.gregs;

    if (!ctx->running) {
        if (signo == SIGALRM)
            return;
        static const char msg[] = "native_runner: fatal signal in host code\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        signal(signo, SIG_DFL);
        raise(signo);
        return;
    }
    if (signo == SIGALRM) {
        if (ctx->tick_serial != ctx->serial) {
            ctx->tick_serial = ctx->serial;     /* first tick for this case */
            return;
        }
        ctx->status = HD_ST_TIMEOUT;
        ctx->vector = 0;
        ctx->error_code = 0;
        ctx->fault_addr = 0;
    } else {
        ctx->status = HD_ST_FAULT;
        ctx->vector = (uint32_t)gregs[REG_TRAPNO];
        ctx->error_code = (uint32_t)gregs[REG_ERR];
        ctx->fault_addr = ctx->vector == HD_VEC_PF ? (uint32_t)uc->uc_mcontext.cr2 : 0;
    }
    ctx->signo = signo;
    ctx->si_code = info->si_code;

    static const int greg_index[8] = { REG_EAX, REG_ECX, REG_EDX, REG_EBX,
                                       REG_ESP, REG_EBP, REG_ESI, REG_EDI };
    for (int i = 0; i < 8; i++)
        ctx->out_gpr[i] = (uint32_t)gregs[greg_index[i]];
    ctx->out_eflags = (uint32_t)gregs[REG_EFL] & ~HD_RF;
    ctx->fault_eip = (uint32_t)gregs[REG_EIP];
    /* uc_mcontext.fpregs starts with the legacy 108-byte FSAVE image */
    ctx->have_fpregs = uc->uc_mcontext.fpregs != NULL;
    if (ctx->have_fpregs)
        memcpy(ctx->out_fsave, uc->uc_mcontext.fpregs, HD_FSAVE_SIZE);
    ctx->running = 0;

    /* return into hd_resume_host on the host stack instead of the guest */
    gregs[REG_EIP] = (greg_t)(uintptr_t)hd_resume_host;
    gregs[REG_ESP] = (greg_t)ctx->host_esp;
    gregs[REG_UESP] = (greg_t)ctx->host_esp;
    gregs[REG_EFL] = 0x202;
}

/* ---- sandbox setup ------------------------------------------------------ */

struct sandbox {
    uint8_t *code_rw;           /* writable alias of the code page */
    uint8_t *data;              /* == HD_DATA_BASE */
    uint32_t code_dirty_end;    /* bytes of code_rw not equal to 0xCC */
};

static void *map_exact(uint32_t addr, uint32_t size, int prot, int flags, int fd, const char *what)
{
    void *want = (void *)(uintptr_t)addr;
    void *got = mmap(want, size, prot, flags, fd, 0);
    if (got != want) {
        fprintf(stderr, "native_runner: cannot map %s at 0x%08x (+0x%x): %s\n", what, addr,
                size, got == MAP_FAILED ? strerror(errno) : "address taken");
        exit(2);
    }
    return got;
}

/* Reserves [base - guard, base + size + guard) as PROT_NONE, failing if taken. */
static void reserve_with_guards(uint32_t base, uint32_t size, const char *what)
{
    map_exact(base - HD_GUARD_SIZE, size + 2 * HD_GUARD_SIZE, PROT_NONE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, what);
}

static void sandbox_init(struct sandbox *sb, uint32_t timeout_ms)
{
    map_exact(NATIVE_CTX_ADDR, NATIVE_CTX_SIZE, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, "runner context");
    memset(native_ctx(), 0, sizeof(struct native_ctx));
    native_ctx()->entry_eip = HD_CODE_BASE;

    reserve_with_guards(HD_CODE_BASE, HD_CODE_SIZE, "code region");
    reserve_with_guards(HD_DATA_BASE, HD_DATA_SIZE, "data region");

    int fd = memfd_create("fox86-hostdiff-code", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, HD_CODE_SIZE) != 0) {
        perror("native_runner: memfd");
        exit(2);
    }
    map_exact(HD_CODE_BASE, HD_CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd,
              "code region");
    sb->code_rw = mmap(NULL, HD_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sb->code_rw == MAP_FAILED) {
        perror("native_runner: code alias");
        exit(2);
    }
    close(fd);
    memset(sb->code_rw, 0xCC, HD_CODE_SIZE);
    sb->code_dirty_end = 0;
    sb->data = map_exact(HD_DATA_BASE, HD_DATA_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, "data region");

    /* low 64 KiB: where 16-bit addresses land; normally unmapped already */
    void *low = mmap((void *)(uintptr_t)0x1000u, 0xF000u, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    (void)low;

    stack_t alt = { .ss_sp = malloc(ALT_STACK_SIZE), .ss_size = ALT_STACK_SIZE, .ss_flags = 0 };
    if (alt.ss_sp == NULL || sigaltstack(&alt, NULL) != 0) {
        perror("native_runner: sigaltstack");
        exit(2);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = hd_signal_entry;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    static const int signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM };
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &sa, NULL) != 0) {
            perror("native_runner: sigaction");
            exit(2);
        }
    }
    struct itimerval watchdog = {
        .it_interval = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 },
        .it_value = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 },
    };
    if (setitimer(ITIMER_REAL, &watchdog, NULL) != 0) {
        perror("native_runner: setitimer");
        exit(2);
    }
}

static bool case_is_valid(const struct hd_case *c)
{
    return c->magic == HD_CASE_MAGIC && c->code_len <= HD_CODE_MAX &&
           c->regs.eip == HD_CODE_BASE && c->n_patches <= HD_MAX_PATCHES &&
           c->n_marks <= HD_MAX_MARKS;
}

static void run_case(struct sandbox *sb, const struct hd_case *c, struct hd_result *res)
{
    struct native_ctx *ctx = native_ctx();

    memset(res, 0, sizeof *res);
    res->magic = HD_RESULT_MAGIC;
    res->case_id = c->case_id;
    if (!case_is_valid(c)) {
        res->status = HD_ST_BAD_CASE;
        return;
    }

    /* code + exit jump; bytes left over from a longer previous case -> 0xCC */
    uint32_t len = c->code_len;
    memcpy(sb->code_rw, c->code, len);
    uint32_t exit_eip = HD_CODE_BASE + len;
    sb->code_rw[len] = 0xE9;
    uint32_t rel = (uint32_t)(uintptr_t)hd_exit_guest - (exit_eip + 5);
    memcpy(sb->code_rw + len + 1, &rel, 4);
    uint32_t end = len + 5;
    if (sb->code_dirty_end > end)
        memset(sb->code_rw + end, 0xCC, sb->code_dirty_end - end);
    sb->code_dirty_end = end;

    hd_fill_data(sb->data, c->data_seed);
    hd_apply_patches(sb->data, c);

    memcpy(ctx->in_gpr, c->regs.gpr, sizeof ctx->in_gpr);
    ctx->in_eflags = (c->regs.eflags & HD_EFLAGS_CASE) | HD_EFLAGS_FIXED;
    hd_fpu_to_fsave(&c->fpu, ctx->in_fsave);
    ctx->status = HD_ST_OK;
    ctx->vector = ctx->error_code = ctx->fault_addr = 0;
    ctx->signo = ctx->si_code = 0;
    ctx->have_fpregs = 1;
    ctx->serial++;

    hd_enter_guest();

    res->status = ctx->status;
    memcpy(res->regs.gpr, ctx->out_gpr, sizeof res->regs.gpr);
    res->regs.eflags = ctx->out_eflags;
    if (ctx->status == HD_ST_OK) {
        res->regs.eip = exit_eip;
    } else {
        res->regs.eip = ctx->fault_eip;
        res->vector = ctx->vector;
        res->error_code = ctx->error_code;
        res->fault_addr = ctx->fault_addr;
        res->host_signo = ctx->signo;
        res->host_si_code = ctx->si_code;
    }
    if (ctx->have_fpregs)
        hd_fpu_from_fsave(&res->fpu, ctx->out_fsave);
    res->data_hash = hd_hash_data(sb->data);
}

/* ---- text output ---------------------------------------------------------- */

static const char *status_name(uint32_t status)
{
    switch (status) {
    case HD_ST_OK: return "OK";
    case HD_ST_FAULT: return "FAULT";
    case HD_ST_TIMEOUT: return "TIMEOUT";
    default: return "BAD";
    }
}

static void print_result(FILE *out, const struct hd_result *r)
{
    static const char *names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    fprintf(out, "id=%016llx st=%s", (unsigned long long)r->case_id, status_name(r->status));
    if (r->status == HD_ST_FAULT)
        fprintf(out, " vec=%u err=%08x cr2=%08x sig=%d/%d", r->vector, r->error_code,
                r->fault_addr, r->host_signo, r->host_si_code);
    fprintf(out, " eip=%08x", r->regs.eip);
    for (int i = 0; i < 8; i++)
        fprintf(out, " %s=%08x", names[i], r->regs.gpr[i]);
    fprintf(out, " efl=%08x fcw=%04x fsw=%04x ftw=%04x", r->regs.eflags, r->fpu.fcw, r->fpu.fsw,
            r->fpu.ftw);
    for (int i = 0; i < 8; i++) {
        uint64_t mant;
        uint16_t se;
        memcpy(&mant, r->fpu.st[i], 8);
        memcpy(&se, r->fpu.st[i] + 8, 2);
        fprintf(out, " st%d=%04x:%016llx", i, se, (unsigned long long)mant);
    }
    fprintf(out, " hash=%016llx\n", (unsigned long long)r->data_hash);
}

static void print_case(FILE *out, const struct hd_case *c)
{
    fprintf(out, "case id=%016llx flags=%x seed=%016llx eflags=%08x len=%u marks=%u patches=%u\n",
            (unsigned long long)c->case_id, c->case_flags, (unsigned long long)c->data_seed,
            c->regs.eflags, c->code_len, c->n_marks, c->n_patches);
    fprintf(out, "  regs");
    for (int i = 0; i < 8; i++)
        fprintf(out, " %08x", c->regs.gpr[i]);
    fprintf(out, "\n  fpu fcw=%04x fsw=%04x ftw=%04x\n  code", c->fpu.fcw, c->fpu.fsw, c->fpu.ftw);
    /* one instruction per line, split at the marks */
    uint32_t mark = 0;
    for (uint32_t i = 0; i < c->code_len; i++) {
        if (mark < c->n_marks && c->marks[mark].offset == i) {
            fprintf(out, "\n    %04x [efl %04x fsw %04x]:", i, c->marks[mark].eflags_defined & 0xFFFFu,
                    c->marks[mark].fsw_defined);
            mark++;
        }
        fprintf(out, " %02x", c->code[i]);
    }
    fprintf(out, "\n");
}

/* ---- modes ---------------------------------------------------------------- */

struct options {
    bool text;
    uint32_t timeout_ms;
};

static void emit_result(const struct options *opt, const struct hd_result *r)
{
    if (opt->text)
        print_result(stdout, r);
    else if (fwrite(r, sizeof *r, 1, stdout) != 1) {
        perror("native_runner: write");
        exit(2);
    }
}

static int run_stdin(const struct options *opt, struct sandbox *sb)
{
    struct hd_case *c = malloc(sizeof *c);
    struct hd_result res;
    if (c == NULL)
        return 2;
    while (fread(c, sizeof *c, 1, stdin) == 1) {
        run_case(sb, c, &res);
        emit_result(opt, &res);
    }
    free(c);
    return ferror(stdin) ? 2 : 0;
}

static int run_generated(const struct options *opt, struct sandbox *sb, uint64_t seed,
                         uint64_t count)
{
    struct hd_case *c = malloc(sizeof *c);
    struct hd_result res;
    if (c == NULL)
        return 2;
    for (uint64_t i = 0; i < count; i++) {
        gen_case(seed + i, c);
        run_case(sb, c, &res);
        emit_result(opt, &res);
    }
    free(c);
    return 0;
}

static int emit_cases(const struct options *opt, uint64_t seed, uint64_t count)
{
    struct hd_case *c = malloc(sizeof *c);
    if (c == NULL)
        return 2;
    for (uint64_t i = 0; i < count; i++) {
        gen_case(seed + i, c);
        if (opt->text)
            print_case(stdout, c);
        else if (fwrite(c, sizeof *c, 1, stdout) != 1) {
            perror("native_runner: write");
            return 2;
        }
    }
    free(c);
    return 0;
}

/* A handcrafted case: fixed, easy-to-read registers; empty x87 stack. */
static bool make_hex_case(const char *hex, struct hd_case *c)
{
    memset(c, 0, sizeof *c);
    c->magic = HD_CASE_MAGIC;
    c->case_id = 0x4845580000000000ull; /* "HEX" */
    c->data_seed = 0;
    c->regs.gpr[HD_EBX] = HD_DATA_BASE + 0x1000;
    c->regs.gpr[HD_ESP] = HD_DATA_END - 0x1000;
    c->regs.gpr[HD_EBP] = HD_DATA_END - 0x1000;
    c->regs.gpr[HD_ESI] = HD_DATA_BASE + 0x2000;
    c->regs.gpr[HD_EDI] = HD_DATA_BASE + 0x3000;
    c->regs.eflags = 0x202;
    c->regs.eip = HD_CODE_BASE;
    c->fpu.fcw = 0x037F;
    c->fpu.ftw = 0xFFFF;
    for (const char *p = hex; *p != '\0';) {
        if (*p == ' ' || *p == ',' || *p == ':') {
            p++;
            continue;
        }
        unsigned int byte;
        int used;
        if (sscanf(p, "%2x%n", &byte, &used) != 1 || used != 2 || c->code_len >= HD_CODE_MAX)
            return false;
        c->code[c->code_len++] = (uint8_t)byte;
        p += 2;
    }
    c->marks[0].offset = (uint16_t)c->code_len;
    c->marks[0].eflags_defined = 0xFFFFFFFFu;
    c->marks[0].fsw_defined = HD_FSW_CC;
    c->n_marks = 1;
    return true;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: native_runner [--text] [--timeout-ms N] < cases > results\n"
            "       native_runner --generate SEED COUNT [--text]\n"
            "       native_runner --emit-cases SEED COUNT [--text]\n"
            "       native_runner --hex \"b8 01 00 00 00 83 c0 02\"\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options opt = { .text = false, .timeout_ms = 250 };
    enum { MODE_STDIN, MODE_GENERATE, MODE_EMIT, MODE_HEX } mode = MODE_STDIN;
    uint64_t seed = 0, count = 0;
    const char *hex = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--text") == 0) {
            opt.text = true;
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            opt.timeout_ms = (uint32_t)strtoul(argv[++i], NULL, 0);
            if (opt.timeout_ms == 0)
                usage();
        } else if ((strcmp(argv[i], "--generate") == 0 || strcmp(argv[i], "--emit-cases") == 0) &&
                   i + 2 < argc) {
            mode = argv[i][2] == 'g' ? MODE_GENERATE : MODE_EMIT;
            seed = strtoull(argv[i + 1], NULL, 0);
            count = strtoull(argv[i + 2], NULL, 0);
            i += 2;
        } else if (strcmp(argv[i], "--hex") == 0 && i + 1 < argc) {
            mode = MODE_HEX;
            hex = argv[++i];
        } else {
            usage();
        }
    }
    if (mode == MODE_EMIT)
        return emit_cases(&opt, seed, count);

    struct sandbox sb;
    sandbox_init(&sb, opt.timeout_ms);
    switch (mode) {
    case MODE_GENERATE:
        return run_generated(&opt, &sb, seed, count);
    case MODE_HEX: {
        struct hd_case *c = malloc(sizeof *c);
        struct hd_result res;
        if (c == NULL || !make_hex_case(hex, c)) {
            fprintf(stderr, "native_runner: bad --hex string\n");
            return 2;
        }
        run_case(&sb, c, &res);
        opt.text = true;
        emit_result(&opt, &res);
        free(c);
        return 0;
    }
    default:
        return run_stdin(&opt, &sb);
    }
}
