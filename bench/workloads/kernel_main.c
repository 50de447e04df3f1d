/* bench/workloads/kernel_main.c: runs a workload as a bare-metal kernel on
 * the test runtime, prints the checksum on port 0xE9 and exits. */
#include "../../tests/baremetal/runtime.h"
#include "workload.h"

void test_main(void)
{
    uint32_t sum = workload_run(WORKLOAD_ROUNDS);
    printf_e9("checksum %08x\n", (unsigned)sum);
}
