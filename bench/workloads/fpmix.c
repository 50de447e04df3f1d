/* bench/workloads/fpmix.c: an x87 mix, freestanding C built for the x87
 * (-mfpmath=387): polynomial evaluation, a small matrix multiply, Newton
 * square roots, integer<->float conversions, and sin/cos/atan through the
 * x87's own instructions. Built like intmix.c for fox86, QEMU and native. */
#include <stdint.h>
#include "workload.h"

#define N 24

static double mat_a[N][N], mat_b[N][N], mat_c[N][N];

static double fsin(double x) { double r; __asm__("fsin" : "=t"(r) : "0"(x)); return r; }
static double fcos(double x) { double r; __asm__("fcos" : "=t"(r) : "0"(x)); return r; }
static double fsqrt(double x) { double r; __asm__("fsqrt" : "=t"(r) : "0"(x)); return r; }
static double fpatan(double y, double x)
{
    double r;
    __asm__("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
    return r;
}

uint32_t workload_run(uint32_t rounds)
{
    double acc = 0.0;
    uint32_t check = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            mat_a[i][j] = (double)(i * N + j) / 7.0;
            mat_b[i][j] = (double)(j - i) / 3.0;
        }
    for (uint32_t r = 0; r < rounds; r++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double s = 0.0;
                for (int k = 0; k < N; k++)
                    s += mat_a[i][k] * mat_b[k][j];
                mat_c[i][j] = s;
            }
        for (int i = 0; i < 200; i++) {
            double x = (double)(i + (int)r) * 0.01;
            double p = ((((0.5 * x - 1.25) * x + 3.0) * x - 0.75) * x + 2.0);
            acc += p / (1.0 + x * x);
            acc += fsqrt(x + 1.0) + fsin(x) * fcos(x) + fpatan(x, 1.0 + x);
        }
        mat_a[r % N][(r * 7) % N] = mat_c[(r * 3) % N][r % N] * 1e-3;
        int32_t as_int = (int32_t)(acc * 16.0);
        check = check * 31u + (uint32_t)as_int;
    }
    return check;
}
