/* devices/lapic.h: what the I/O APIC and the board say to the local APIC
 * (devices/lapic.c) beyond its create function (devices/device.h): the
 * interrupt messages of the APIC bus and the EOI broadcast back.
 *
 * Usage (ioapic.c):
 *   lapic_set_eoi_listener(lapic, ioapic_eoi, ioapic);
 *   lapic_deliver(lapic, dest, logical, APIC_DM_FIXED, vector, level_triggered);
 */
#ifndef FOX86_LAPIC_H
#define FOX86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct lapic;

/* Delivery modes (ICR, LVT and I/O APIC redirection entries bits 10:8). */
enum {
    APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
    APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7,
};

/* An interrupt message for destination dest (an APIC ID in physical mode,
 * a logical mask in logical mode; 0xFF broadcasts). Returns true if this
 * APIC is a destination and took it (a hardware-disabled APIC takes none). */
bool lapic_deliver(struct lapic *s, uint8_t dest, bool dest_logical, int delivery_mode,
                   uint8_t vector, bool level_triggered);

/* Called with the vector when the guest EOIs a level-triggered interrupt
 * (TMR bit set): the I/O APIC clears its Remote IRR. One listener. */
void lapic_set_eoi_listener(struct lapic *s, void (*eoi)(void *opaque, uint8_t vector),
                            void *opaque);

#endif
