/* core/ioport.h: the 64 KiB x86 I/O port space.
 *
 * Devices register ranges of ports with a read and a write callback and an
 * opaque pointer (their own state). An access to a port nobody registered
 * reads as all ones and ignores writes, as on a PC's open bus.
 *
 * Usage:
 *   static const struct ioport_ops uart_ops = { uart_read, uart_write };
 *   ioport_register(&mach->io, 0x3F8, 8, &uart_ops, uart);
 */
#ifndef FOX86_IOPORT_H
#define FOX86_IOPORT_H

#include <stdint.h>

struct ioport_ops {
    uint32_t (*read)(void *opaque, uint16_t port, int size);             /* size 1, 2 or 4 */
    void     (*write)(void *opaque, uint16_t port, uint32_t value, int size);
};

#define IOPORT_MAX_RANGES 128

struct ioport_range {
    uint16_t first;
    uint16_t count;
    const struct ioport_ops *ops;
    void *opaque;
};

struct ioport_map {
    struct ioport_range ranges[IOPORT_MAX_RANGES];
    int nranges;
    uint8_t owner[65536];   /* index+1 into ranges, 0 = unassigned */
};

void ioport_map_init(struct ioport_map *map);
/* Returns 0, or -1 if the range overlaps another or the table is full. */
int ioport_register(struct ioport_map *map, uint16_t first, uint16_t count,
                    const struct ioport_ops *ops, void *opaque);
/* Remove exactly the range [first, first+count) registered earlier (PCI
 * BARs moving). Returns 0, or -1 if no such range is registered. */
int ioport_unregister(struct ioport_map *map, uint16_t first, uint16_t count);
uint32_t ioport_read(struct ioport_map *map, uint16_t port, int size);
void ioport_write(struct ioport_map *map, uint16_t port, uint32_t value, int size);

#endif
