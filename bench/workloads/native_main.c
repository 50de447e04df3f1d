/* bench/workloads/native_main.c: runs a workload as a 32-bit Linux program. */
#include <stdio.h>
#include "workload.h"

int main(void)
{
    printf("checksum %08x\n", (unsigned)workload_run(WORKLOAD_ROUNDS));
    return 0;
}
