/* translator/tcache_int.h: the translation cache's state, shared by
 * tcache.c, portable.c and lockstep.c (not by its users). */
#ifndef FOX86_TCACHE_INT_H
#define FOX86_TCACHE_INT_H

#include "core/cpu.h"
#include "tcache.h"

#define TB_JUMP_SIZE 1024u   /* a power of two */

struct tcache {
    struct cpu_engine engine;
    struct tcache_config cfg;
    struct tcache_stats stats;
    uint8_t *arena;              /* blocks, bump-allocated; freed all at once */
    size_t   arena_size;
    size_t   arena_used;
    struct tblock **buckets;     /* hash chains by (phys, mode) */
    uint32_t nbuckets;           /* a power of two */
    uint64_t map_generation;     /* phys_mem.generation the blocks belong to */
    uint64_t flush_count;        /* flushes + map flushes: a held block pointer is void when it moved */
    bool     lockstep_failed;
    struct lockstep *lockstep;   /* lockstep.c state, NULL when off */
    uint32_t lockstep_countdown; /* blocks to run before the next compared one */
    /* portable.c: the jump cache, linear EIP -> block, for the transitions
     * the links miss (returns, indirect jumps, calls to other pages); all
     * entries belong to one TLB epoch and one cache flush count */
    struct tb_jump { uint32_t lin, mode; struct tblock *b; } jump[TB_JUMP_SIZE];
    uint32_t jump_epoch;
    uint64_t jump_flushes;
    struct native *native;       /* native.c state; NULL for the portable backend */
    /* how the lock-step checker runs one block: portable_run_block or
     * native_run_block */
    bool (*run_block)(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end);
};

/* native.c: the native backend's state for tc, its engine table, host code
 * for a new block (b->code stays NULL if none could be made), forgetting
 * all host code (with the cache's flush), and running one block without
 * chaining (the lock-step checker). */
struct native *native_create(struct tcache *tc, size_t code_bytes);
void native_destroy(struct native *nt);
struct cpu_engine native_engine(struct tcache *tc);
void native_translate(struct tcache *tc, struct cpu *cpu, struct tblock *b);
void native_flush(struct native *nt);
bool native_run_block(struct tcache *tc, struct cpu *cpu, const struct tblock *b, uint64_t end);
size_t native_code_used(const struct native *nt);
size_t native_code_size(const struct native *nt);
/* The indirect-branch cache's counters (RET, indirect and cross-page jumps). */
void native_jc_stats(const struct native *nt, uint64_t *hits, uint64_t *misses, uint64_t *clears);
/* The host-dependent forms native code uses, for --stats: the TLB index
 * (RORX or not) and MUL/IMUL's and the shifts' undefined flags (the
 * host's, or computed where they differ from the interpreter's). */
void native_host_forms(const struct native *nt, bool *bmi2, bool *undef_flags_computed);

/* portable.c: the engine table of the portable backend for tc. */
struct cpu_engine portable_engine(struct tcache *tc);

struct lockstep *lockstep_create(void);
void lockstep_destroy(struct lockstep *ls);

#endif
