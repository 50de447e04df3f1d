/* bench/hostmap_cost.c: what a host-mapped shadow MMU would pay on this host.
 *
 * The design docs/mmu.md weighs: one 4 GiB host reservation per guest
 * address space, guest RAM (a memfd) mapped into it page by page as the
 * guest touches linear pages, SIGSEGV filling a missing page, mprotect
 * write-protecting page tables and code. This program measures the three
 * host operations that design lives on and the kernel's mapping limit:
 *   - one fill: the fault, the signal, mmap(MAP_FIXED) of one RAM page;
 *   - one write-protect and unprotect (mprotect of one page, twice);
 *   - dropping a whole space (a CR3 write under -mmu tlb): one mmap over it;
 *   - how many scattered pages fit under vm.max_map_count (every page
 *     mapped inside the reservation splits it: about two VMAs per page).
 * Usage: bench/hostmap.sh (builds and runs it); prints one line per figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SPACE_BYTES (4ull << 30)
#define RAM_BYTES   (64ull << 20)
#define PAGE        4096ull

struct probe {
    int      ram_fd;
    uint8_t *space;                /* the 4 GiB reservation */
    volatile long fills;           /* written by the signal handler */
    volatile bool fill_failed;
    sigjmp_buf escape;             /* where a failed fill returns to */
};

/* A signal handler has no argument to carry state: this one pointer is the
 * only way in, set once before any fault. */
static struct probe *active_probe;

static void fill_on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    struct probe *p = active_probe;
    uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(PAGE - 1);
    uint64_t ram_offset = (page - (uintptr_t)p->space) % RAM_BYTES;
    if (mmap((void *)page, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
             p->ram_fd, (off_t)ram_offset) == MAP_FAILED) {
        /* Out of VMAs: no mapping call can be trusted to work now, so
         * leave the faulting access instead of retrying it. */
        p->fill_failed = true;
        siglongjmp(p->escape, 1);
    }
    p->fills++;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void drop_space(struct probe *p)
{
    mmap(p->space, SPACE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
         -1, 0);
}

/* Touch n scattered pages (every 7th: no two adjacent, so none merge). */
static uint8_t touch_pages(struct probe *p, long n)
{
    volatile uint8_t sum = 0;
    for (long i = 0; i < n; i++)
        sum += p->space[(uint64_t)i * 7 * PAGE % SPACE_BYTES];
    return sum;
}

static long read_max_map_count(void)
{
    long v = -1;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

int main(void)
{
    struct probe p = { .ram_fd = memfd_create("hostmap-ram", 0) };
    if (p.ram_fd < 0 || ftruncate(p.ram_fd, (off_t)RAM_BYTES) != 0) {
        fprintf(stderr, "hostmap_cost: memfd: %s\n", strerror(errno));
        return 1;
    }
    p.space = mmap(NULL, SPACE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p.space == MAP_FAILED) {
        fprintf(stderr, "hostmap_cost: cannot reserve 4 GiB: %s\n", strerror(errno));
        return 1;
    }
    active_probe = &p;
    struct sigaction sa = { .sa_sigaction = fill_on_fault, .sa_flags = SA_SIGINFO };
    sigaction(SIGSEGV, &sa, NULL);

    long max_maps = read_max_map_count();
    long n = max_maps > 0 ? max_maps / 4 : 8192;   /* well inside the limit */
    if (n > 20000)
        n = 20000;

    double t0 = seconds();
    uint8_t sum = touch_pages(&p, n);
    double fill_us = (seconds() - t0) / (double)n * 1e6;
    printf("fill (fault + signal + mmap of one page): %.2f us  (%ld fills)\n", fill_us, p.fills);

    t0 = seconds();
    drop_space(&p);
    printf("drop a space holding %ld pages (one CR3 write under -mmu tlb): %.0f us\n",
           n, (seconds() - t0) * 1e6);

    sum += touch_pages(&p, 100);
    long rounds = 20000;
    t0 = seconds();
    for (long r = 0; r < rounds; r++) {
        uint8_t *page = p.space + (uint64_t)(r % 100) * 7 * PAGE;
        mprotect(page, PAGE, PROT_READ);
        mprotect(page, PAGE, PROT_READ | PROT_WRITE);
    }
    printf("write-protect + unprotect one page (two mprotect calls): %.2f us\n",
           (seconds() - t0) / (double)rounds * 1e6);

    /* The limit: fill scattered pages until mmap refuses. */
    drop_space(&p);
    p.fills = 0;
    if (sigsetjmp(p.escape, 1) == 0)
        for (long i = 0; i < 4 * max_maps; i++)
            sum += ((volatile uint8_t *)p.space)[(uint64_t)i * 7 * PAGE % SPACE_BYTES];
    printf("scattered pages mappable at once: %ld%s (vm.max_map_count %ld), all spaces together\n",
           p.fills, p.fill_failed ? "" : " or more", max_maps);
    (void)sum;
    return 0;
}
