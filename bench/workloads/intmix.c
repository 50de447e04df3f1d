/* bench/workloads/intmix.c: a CPU-bound integer mix, freestanding C.
 *
 * The same source is built twice: as a multiboot kernel (with kernel_main.c
 * and the bare-metal test runtime) for fox86 and QEMU, and as a 32-bit
 * Linux program (native_main.c) for the host CPU. It mixes what integer
 * code does: table-driven and bitwise CRC32, a sort, a hash table, string
 * moves, multiplies and divides, and data-dependent branches. The checksum
 * it returns proves all three ran the same computation.
 */
#include <stdint.h>
#include "workload.h"

#define ARRAY_LEN 1024
#define TABLE_LEN 4096

static uint32_t crc_table[256];
static uint32_t array[ARRAY_LEN];
static uint32_t table_keys[TABLE_LEN], table_vals[TABLE_LEN];
static uint8_t bytes_a[4096], bytes_b[4096];

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_bytes(const uint8_t *p, uint32_t n, uint32_t crc)
{
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

static void shell_sort(uint32_t *a, uint32_t n)
{
    static const uint32_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (uint32_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        uint32_t gap = gaps[g];
        for (uint32_t i = gap; i < n; i++) {
            uint32_t v = a[i], j = i;
            while (j >= gap && a[j - gap] > v) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = v;
        }
    }
}

/* Linear probing into a table kept at most half full (so probes end). */
static uint32_t hash_round(uint32_t *seed, uint32_t *occupied)
{
    uint32_t hits = 0;
    for (uint32_t i = 0; i < 2048; i++) {
        uint32_t key = rng_next(seed) % 6000 + 1;
        uint32_t slot = (key * 2654435761u) % TABLE_LEN;
        while (table_keys[slot] && table_keys[slot] != key)
            slot = (slot + 1) % TABLE_LEN;
        if (table_keys[slot] == key) {
            table_vals[slot]++;
            hits++;
        } else if ((i & 1) && *occupied < TABLE_LEN / 2) {
            table_keys[slot] = key;
            table_vals[slot] = 1;
            (*occupied)++;
        }
    }
    return hits;
}

static uint32_t arith_round(uint32_t x)
{
    uint32_t acc = 0;
    for (uint32_t i = 1; i < 512; i++) {
        x = x * 1103515245u + 12345u;
        acc += (x >> 7) / i + (x % (i + 3));
        acc ^= (uint32_t)(((uint64_t)x * acc) >> 32);
        acc = (acc << 3) | (acc >> 29);
    }
    return acc;
}

uint32_t workload_run(uint32_t rounds)
{
    uint32_t seed = 0x12345678u, sum = 0, occupied = 0;
    crc_init();
    for (uint32_t i = 0; i < TABLE_LEN; i++)
        table_keys[i] = table_vals[i] = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < ARRAY_LEN; i++)
            array[i] = rng_next(&seed);
        shell_sort(array, ARRAY_LEN);
        sum += array[r % ARRAY_LEN];
        for (uint32_t i = 0; i < sizeof bytes_a; i++)
            bytes_a[i] = (uint8_t)(array[i % ARRAY_LEN] >> (i & 24));
        wl_memcpy(bytes_b, bytes_a, sizeof bytes_a);
        sum = crc32_bytes(bytes_b, sizeof bytes_b, sum);
        sum += hash_round(&seed, &occupied);
        sum += arith_round(sum);
        if ((r & 63) == 63) {
            for (uint32_t i = 0; i < TABLE_LEN; i++)
                table_keys[i] = 0;
            occupied = 0;
        }
    }
    return sum;
}
