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
};

/* portable.c: the engine table of the portable backend for tc. */
struct cpu_engine portable_engine(struct tcache *tc);

struct lockstep *lockstep_create(void);
void lockstep_destroy(struct lockstep *ls);

#endif
