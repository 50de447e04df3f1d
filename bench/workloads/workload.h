/* bench/workloads/workload.h: what a benchmark workload provides and needs. */
#ifndef FOX86_BENCH_WORKLOAD_H
#define FOX86_BENCH_WORKLOAD_H

#include <stdint.h>

/* Runs the workload for `rounds` rounds; returns a checksum. */
uint32_t workload_run(uint32_t rounds);

static inline void wl_memcpy(void *dst, const void *src, uint32_t n)
{
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
}

#endif
