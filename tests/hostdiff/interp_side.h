/* tests/hostdiff/interp_side.h: the fox86 side of the host-differential
 * test: runs a struct hd_case in the interpreter and reports a struct
 * hd_result in the native runner's format (see hostdiff.h). */
#ifndef FOX86_TESTS_INTERP_SIDE_H
#define FOX86_TESTS_INTERP_SIDE_H

#include "hostdiff.h"

struct hd_interp;   /* opaque: guest RAM and a CPU, reused across cases */

int  hd_interp_init(struct hd_interp **out);
void hd_interp_run(struct hd_interp *interp, const struct hd_case *c, struct hd_result *r);
void hd_interp_free(struct hd_interp *interp);

#endif
