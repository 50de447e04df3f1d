/* core/exec_table.c: the dispatch table from OP_* to handler, filled by each
 * handler file's registration function. Rows left empty raise #UD in the
 * run loop, so a missing handler is an honest #UD, never a silent no-op. */
#include "exec.h"

exec_fn exec_table[OP_COUNT];

void exec_table_init(void)
{
    static bool done;   /* the table is constant once filled; filling twice is harmless */
    if (done)
        return;
    exec_register_int(exec_table);
    exec_register_string(exec_table);
    exec_register_flow(exec_table);
    exec_register_sys(exec_table);
    exec_register_fpu(exec_table);
    exec_register_sysinsn(exec_table);
    done = true;
}
