/* tests/hostdiff/hostdiff_test.c: fox86's interpreter against the host CPU.
 *
 *   hostdiff_test RUNNER [COUNT [FIRST_SEED]]
 *
 * Generates COUNT random cases (gen.c) from consecutive seeds, runs each on
 * the real CPU through the 32-bit native runner (RUNNER, a separate process
 * fed by a generator child over a pipe) and in fox86's interpreter
 * (interp_side.c), and compares registers, the defined flags, the x87 state,
 * the data region and the fault raised, as hostdiff.h prescribes. The first
 * mismatches are printed with a disassembly of the case; the last line is
 * "hostdiff: N passed, M failed[, K skipped]". Exit status 0 only if none
 * failed; 77 (skipped) when the runner cannot run on this host.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"
#include "hostdiff.h"
#include "interp_side.h"

#define MAX_REPORTS 10
/* Transcendentals: the x87 is not correctly rounded; fox86 must be within
 * this many units in the last place of the 64-bit significand. */
#define TRANSCENDENTAL_ULPS 4

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The 80-bit value as a sign-magnitude integer for ulp distance. */
static int64_t fx80_ordinal(const uint8_t v[10], uint64_t *mant_out)
{
    uint64_t mant;
    uint16_t se;
    memcpy(&mant, v, 8);
    memcpy(&se, v + 8, 2);
    *mant_out = mant;
    return se;
}

static bool st_close(const uint8_t a[10], const uint8_t b[10], bool tolerant)
{
    if (!memcmp(a, b, 10))
        return true;
    if (!tolerant)
        return false;
    uint64_t ma, mb;
    int64_t sa = fx80_ordinal(a, &ma), sb = fx80_ordinal(b, &mb);
    if (sa == sb) {
        uint64_t d = ma > mb ? ma - mb : mb - ma;
        return d <= TRANSCENDENTAL_ULPS;
    }
    if (sa == sb + 1 || sb == sa + 1) {   /* straddling a power of two */
        uint64_t hi = sa > sb ? ma : mb, lo = sa > sb ? mb : ma;
        return hi <= (1ull << 63) + TRANSCENDENTAL_ULPS && lo >= ~0ull - 2 * TRANSCENDENTAL_ULPS;
    }
    return false;
}

/* fox86's interpreter is an Intel CPU: an FSTP m80 or FBSTP whose second
 * part faults on the next page has written its first 8 bytes (the SDM
 * allows partial writes wider than a quadword, and Intel's CPUs do it).
 * AMD's write nothing. On an AMD host the data region of such a case is
 * not comparable; everything else still is. */
static uint64_t amd_m80_uncompared;   /* cases whose data region was left out by the rule below */

static bool amd_split_m80_store(const struct hd_case *c, const struct hd_result *nat)
{
    if (nat->status != HD_ST_FAULT || nat->vector != HD_VEC_PF || !__builtin_cpu_is("amd"))
        return false;
    uint32_t off = nat->regs.eip - HD_CODE_BASE;
    while (off < c->code_len && off < HD_CODE_MAX - 1 &&
           strchr("\x26\x2e\x36\x3e\x64\x65\x66\x67\xf0\xf2\xf3", c->code[off]) && c->code[off])
        off++;
    if (off + 1 >= c->code_len)
        return false;
    uint8_t op = c->code[off], modrm = c->code[off + 1], ext = (modrm >> 3) & 7;
    return (modrm >> 6) != 3 && ((op == 0xDB && ext == 7) || (op == 0xDF && ext == 6));
}

/* Returns NULL when the results agree, else a description of the first difference. */
static const char *compare(const struct hd_case *c, const struct hd_result *nat,
                           const struct hd_result *emu, char *why, size_t whylen)
{
    if (emu->status != nat->status) {
        snprintf(why, whylen, "status: native %u (vector %u err %#x eip %#x), fox86 %u (vector %u err %#x eip %#x)",
                 nat->status, nat->vector, nat->error_code, nat->regs.eip, emu->status, emu->vector,
                 emu->error_code, emu->regs.eip);
        return why;
    }
    if (nat->status == HD_ST_FAULT &&
        (emu->vector != nat->vector || emu->error_code != nat->error_code ||
         emu->fault_addr != nat->fault_addr)) {
        snprintf(why, whylen, "fault: native #%u err %#x cr2 %#x, fox86 #%u err %#x cr2 %#x", nat->vector,
                 nat->error_code, nat->fault_addr, emu->vector, emu->error_code, emu->fault_addr);
        return why;
    }
    if (emu->regs.eip != nat->regs.eip) {
        snprintf(why, whylen, "eip: native %#x, fox86 %#x", nat->regs.eip, emu->regs.eip);
        return why;
    }
    static const char *const names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    for (int i = 0; i < 8; i++)
        if (emu->regs.gpr[i] != nat->regs.gpr[i]) {
            snprintf(why, whylen, "%s: native %#x, fox86 %#x", names[i], nat->regs.gpr[i], emu->regs.gpr[i]);
            return why;
        }
    const struct hd_mark *mark = hd_case_mark_at(c, nat->regs.eip - HD_CODE_BASE);
    uint32_t flag_mask = mark ? mark->eflags_defined : (HD_ARITH_FLAGS | HD_DF);
    if ((emu->regs.eflags ^ nat->regs.eflags) & flag_mask) {
        snprintf(why, whylen, "eflags (defined bits %#x): native %#x, fox86 %#x", flag_mask,
                 nat->regs.eflags, emu->regs.eflags);
        return why;
    }
    if (emu->data_hash != nat->data_hash && amd_split_m80_store(c, nat)) {
        amd_m80_uncompared++;
    } else if (emu->data_hash != nat->data_hash) {
        snprintf(why, whylen, "data region differs (hash %016" PRIx64 " vs %016" PRIx64 ")", nat->data_hash,
                 emu->data_hash);
        return why;
    }
    bool transcendental = c->case_flags & HD_CF_TRANSCENDENTAL;
    uint16_t fsw_mask = (uint16_t)((mark ? mark->fsw_defined : HD_FSW_CC) | ~HD_FSW_CC);
    if (transcendental)
        fsw_mask &= (uint16_t)~(HD_FSW_C1 | 0x20u /* PE */);
    if (emu->fpu.fcw != nat->fpu.fcw || ((emu->fpu.fsw ^ nat->fpu.fsw) & fsw_mask) ||
        emu->fpu.ftw != nat->fpu.ftw) {
        snprintf(why, whylen, "x87 control: native cw %#x sw %#x tw %#x, fox86 cw %#x sw %#x tw %#x",
                 nat->fpu.fcw, nat->fpu.fsw, nat->fpu.ftw, emu->fpu.fcw, emu->fpu.fsw, emu->fpu.ftw);
        return why;
    }
    for (int i = 0; i < 8; i++)
        if (!st_close(nat->fpu.st[i], emu->fpu.st[i], transcendental)) {
            uint64_t mn, me;
            int64_t en = fx80_ordinal(nat->fpu.st[i], &mn), ee = fx80_ordinal(emu->fpu.st[i], &me);
            snprintf(why, whylen, "st(%d): native %04" PRIx64 ":%016" PRIx64 ", fox86 %04" PRIx64 ":%016" PRIx64,
                     i, en, mn, ee, me);
            return why;
        }
    return NULL;
}

static void report(csh cs, const struct hd_case *c, const char *why)
{
    printf("MISMATCH case %" PRIu64 ": %s\n", c->case_id, why);
    cs_insn *insns;
    size_t n = cs_disasm(cs, c->code, c->code_len, HD_CODE_BASE, 0, &insns);
    for (size_t i = 0; i < n; i++) {
        char hex[48] = "";
        for (size_t b = 0; b < insns[i].size && b < 15; b++)
            snprintf(hex + 3 * b, sizeof hex - 3 * b, "%02x ", insns[i].bytes[b]);
        printf("  %08" PRIx64 "  %-45s %s %s\n", insns[i].address, hex, insns[i].mnemonic, insns[i].op_str);
    }
    if (n)
        cs_free(insns, n);
}

/* Starts the native runner with its stdin and stdout on pipes: *to_fd
 * feeds it cases, *from_fd reads its results. -1 if the pipes fail. */
static pid_t spawn_runner(const char *runner, int *to_fd, int *from_fd)
{
    int to[2], from[2];
    if (pipe(to) || pipe(from))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]); close(to[1]); close(from[0]); close(from[1]);
        execl(runner, runner, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    *to_fd = to[1];
    *from_fd = from[0];
    return pid;
}

/* Runs one case through a fresh runner process; nonzero when it fails. */
static int run_native_once(const char *runner, const struct hd_case *c, struct hd_result *out)
{
    int to, from;
    pid_t pid = spawn_runner(runner, &to, &from);
    if (pid < 0)
        return -1;
    int rc = write_full(to, c, sizeof *c);
    close(to);
    rc = rc || read_full(from, out, sizeof *out) || out->magic != HD_RESULT_MAGIC;
    close(from);
    waitpid(pid, NULL, 0);
    return rc;
}

/* A mismatching case cut short at each instruction boundary: the first
 * prefix that differs names the instruction that made the difference. */
static void locate(const char *runner, struct hd_interp *interp, const struct hd_case *c)
{
    struct hd_case *cut = malloc(sizeof *cut);
    struct hd_result nat, emu;
    char why[256];
    for (uint32_t m = 1; cut && m < c->n_marks && m < HD_MAX_MARKS; m++) {
        *cut = *c;
        cut->code_len = c->marks[m].offset;
        cut->n_marks = m + 1;
        cut->case_flags &= ~HD_CF_EXPECT_FAULT;
        if (run_native_once(runner, cut, &nat))
            break;
        if (nat.status == HD_ST_TIMEOUT || nat.status == HD_ST_BAD_CASE)
            continue;
        hd_interp_run(interp, cut, &emu);
        if (compare(cut, &nat, &emu, why, sizeof why)) {
            printf("  first difference after the instruction at %08x: %s\n",
                   HD_CODE_BASE + c->marks[m - 1].offset, why);
            break;
        }
    }
    free(cut);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s RUNNER [COUNT [FIRST_SEED]]\n", argv[0]);
        return 2;
    }
    const char *runner = argv[1];
    uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 0) : 100000;
    uint64_t first = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
    if (getenv("FOX86_HOSTDIFF_N"))
        count = strtoull(getenv("FOX86_HOSTDIFF_N"), NULL, 0);

#if !defined(__x86_64__) && !defined(__i386__)
    printf("hostdiff: skipped, the host CPU is not x86\n");
    return 77;
#endif
    if (access(runner, X_OK) != 0) {
        printf("hostdiff: skipped, native runner %s not built (gcc-multilib missing?)\n", runner);
        return 77;
    }

    signal(SIGPIPE, SIG_IGN);
    int to_runner, from_runner;
    pid_t runner_pid = spawn_runner(runner, &to_runner, &from_runner);
    if (runner_pid < 0) {
        perror("pipe");
        return 1;
    }

    /* The generator child keeps the runner fed while this process compares. */
    pid_t gen_pid = fork();
    if (gen_pid == 0) {
        close(from_runner);
        struct hd_case *c = malloc(sizeof *c);
        for (uint64_t i = 0; c && i < count; i++) {
            gen_case(first + i, c);
            if (write_full(to_runner, c, sizeof *c))
                _exit(1);
        }
        _exit(0);
    }
    close(to_runner);

    struct hd_interp *interp;
    if (hd_interp_init(&interp)) {
        fprintf(stderr, "hostdiff: cannot set up the interpreter\n");
        return 1;
    }
    csh cs;
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK) {
        fprintf(stderr, "hostdiff: capstone unavailable\n");
        return 1;
    }

    struct hd_case *c = malloc(sizeof *c);
    struct hd_result nat, emu;
    uint64_t passed = 0, failed = 0, skipped = 0, faults = 0;
    char why[256];
    for (uint64_t i = 0; i < count; i++) {
        if (read_full(from_runner, &nat, sizeof nat) || nat.magic != HD_RESULT_MAGIC) {
            fprintf(stderr, "hostdiff: native runner stopped after %" PRIu64 " cases\n", i);
            failed++;
            break;
        }
        gen_case(first + i, c);
        if (nat.case_id != c->case_id) {
            fprintf(stderr, "hostdiff: runner out of step (case %" PRIu64 " vs %" PRIu64 ")\n", nat.case_id,
                    c->case_id);
            failed++;
            break;
        }
        if (nat.status == HD_ST_TIMEOUT || nat.status == HD_ST_BAD_CASE) {
            skipped++;
            continue;
        }
        hd_interp_run(interp, c, &emu);
        faults += nat.status == HD_ST_FAULT;
        if (compare(c, &nat, &emu, why, sizeof why)) {
            if (failed < MAX_REPORTS) {
                report(cs, c, why);
                locate(runner, interp, c);
            }
            failed++;
        } else {
            passed++;
        }
    }
    close(from_runner);
    kill(gen_pid, SIGTERM);
    waitpid(gen_pid, NULL, 0);
    waitpid(runner_pid, NULL, 0);
    cs_close(&cs);
    hd_interp_free(interp);
    free(c);

    printf("hostdiff: seeds %" PRIu64 "..%" PRIu64 ", %" PRIu64 " ended in a fault on both sides\n", first,
           first + count - 1, faults);
    if (amd_m80_uncompared)
        printf("hostdiff: %" PRIu64 " cases' data region not compared: a split FSTP m80/FBSTP that faulted "
               "(Intel writes the first 8 bytes, this AMD host nothing)\n", amd_m80_uncompared);
    printf("hostdiff: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
