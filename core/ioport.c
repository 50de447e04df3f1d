/* core/ioport.c: port dispatch (see ioport.h). The owner table gives O(1)
 * dispatch; a multi-byte access to a device that owns only the first port
 * is passed to that device whole, as ISA decoding does. */
#include "ioport.h"

#include <string.h>

void ioport_map_init(struct ioport_map *map)
{
    memset(map, 0, sizeof(*map));
}

int ioport_register(struct ioport_map *map, uint16_t first, uint16_t count,
                    const struct ioport_ops *ops, void *opaque)
{
    if (count == 0 || (uint32_t)first + count > 65536 || !ops)
        return -1;
    for (uint32_t p = first; p < (uint32_t)first + count; p++)
        if (map->owner[p])
            return -1;
    int slot = 0;
    while (slot < map->nranges && map->ranges[slot].ops)   /* reuse an unregistered slot */
        slot++;
    if (slot == map->nranges) {
        if (map->nranges >= IOPORT_MAX_RANGES)
            return -1;
        map->nranges++;
    }
    map->ranges[slot] = (struct ioport_range){ first, count, ops, opaque };
    for (uint32_t p = first; p < (uint32_t)first + count; p++)
        map->owner[p] = (uint8_t)(slot + 1);
    return 0;
}

static const struct ioport_range *ioport_owner(const struct ioport_map *map, uint16_t port)
{
    uint8_t idx = map->owner[port];
    return idx ? &map->ranges[idx - 1] : NULL;
}

uint32_t ioport_read(struct ioport_map *map, uint16_t port, int size)
{
    const struct ioport_range *r = ioport_owner(map, port);
    uint32_t all_ones = size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    if (!r || !r->ops->read)
        return all_ones;
    return r->ops->read(r->opaque, port, size) & all_ones;
}

void ioport_write(struct ioport_map *map, uint16_t port, uint32_t value, int size)
{
    const struct ioport_range *r = ioport_owner(map, port);
    if (r && r->ops->write)
        r->ops->write(r->opaque, port, value, size);
}

int ioport_unregister(struct ioport_map *map, uint16_t first, uint16_t count)
{
    for (int i = 0; i < map->nranges; i++) {
        struct ioport_range *r = &map->ranges[i];
        if (r->ops && r->first == first && r->count == count) {
            for (uint32_t p = first; p < (uint32_t)first + count; p++)
                map->owner[p] = 0;
            r->ops = NULL;          /* the slot stays: owner[] indexes are stable */
            r->count = 0;
            return 0;
        }
    }
    return -1;
}
