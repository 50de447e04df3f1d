/* devices/debugport.c: the debug ports guests and firmware use to talk to
 * the emulator, as QEMU has them:
 *   0xE9   Bochs/QEMU debugcon: a byte written goes to the -debugcon backend;
 *          a read returns 0xE9 (how guests detect the port).
 *   0x402  SeaBIOS debug output: the same backend, same read value.
 *   isa-debug-exit (optional, at iobase/iosize from -device): a write of
 *          value v stops the machine with exit status (v << 1) | 1, so a
 *          guest can never produce status 0 (QEMU's convention).
 * Only the low byte of a wider write to the output ports is printed.
 *
 * Usage:
 *   debugport_create(m, debugcon_backend, true, 0xF4, 4);
 */
#include <stdlib.h>

#include "core/chardev.h"
#include "core/machine.h"
#include "devices/device.h"

#define DEBUGCON_PORT    0xE9
#define SEABIOS_LOG_PORT 0x402

struct debugport {
    struct machine *machine;   /* for exit requests */
    struct chardev *out;       /* -debugcon backend, may be NULL (none) */
};

static uint32_t debugcon_read(void *opaque, uint16_t port, int size)
{
    return 0xE9;
}

static void debugcon_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct debugport *dp = opaque;
    uint8_t byte = (uint8_t)value;
    chardev_write(dp->out, &byte, 1);
}

static uint32_t debug_exit_read(void *opaque, uint16_t port, int size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct debugport *dp = opaque;
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    machine_request_exit(dp->machine, (int)(((value & mask) << 1) | 1));
}

static const struct ioport_ops debugcon_port_ops = { debugcon_read, debugcon_write };
static const struct ioport_ops debug_exit_port_ops = { debug_exit_read, debug_exit_write };

static const struct device_ops debugport_ops = {
    .name = "debugport",
    .destroy = free,
};

int debugport_create(struct machine *m, struct chardev *out, bool exit_device,
                     uint16_t exit_iobase, uint16_t exit_iosize)
{
    struct debugport *dp = calloc(1, sizeof(*dp));
    if (!dp)
        return -1;
    dp->machine = m;
    dp->out = out;
    if (machine_add_device(m, &debugport_ops, dp) != 0) {
        free(dp);
        return -1;
    }
    /* from here the machine owns dp */
    if (ioport_register(&m->io, DEBUGCON_PORT, 1, &debugcon_port_ops, dp) != 0
        || ioport_register(&m->io, SEABIOS_LOG_PORT, 1, &debugcon_port_ops, dp) != 0)
        return -1;
    if (exit_device && ioport_register(&m->io, exit_iobase, exit_iosize, &debug_exit_port_ops, dp) != 0)
        return -1;
    return 0;
}
