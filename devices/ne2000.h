/* devices/ne2000.h: the NE2000 Ethernet card (a DP8390 core behind the
 * NE2000's remote-DMA data port), in its two forms:
 *
 *   ne2000_pci_create: a Realtek RTL8029 (10ec:8029, class 0x0200) at devfn
 *     on bus, its 32 ports at I/O BAR 0, interrupting on INTA# (Linux
 *     ne2k-pci, iPXE).
 *   ne2000_isa_create: an NE2000 at iobase (32 ports; 0x300 for QEMU and the
 *     period drivers) interrupting on irq (Linux ne, DOS packet drivers).
 *
 * Both take the MAC address for the station PROM and a host backend nd
 * (core/net.h; NULL: a card with no cable). The card attaches itself to nd
 * (nd->nic) and detaches when the machine destroys it, so nd must outlive
 * the machine or be closed after it. Both return 0, or -1 if the ports or
 * the slot are taken or memory ran out.
 *
 * Usage (the board):
 *   ne2000_pci_create(m, bus, PCI_DEVFN(3, 0), mac, netdev);
 *   ne2000_isa_create(m, 0x300, isa_irq[9], mac, netdev);
 */
#ifndef FOX86_NE2000_H
#define FOX86_NE2000_H

#include <stdint.h>

#include "devices/device.h"

struct netdev;

int ne2000_pci_create(struct machine *m, struct pci_bus *bus, int devfn, const uint8_t mac[6],
                      struct netdev *nd);
int ne2000_isa_create(struct machine *m, uint16_t iobase, struct irq_line *irq,
                      const uint8_t mac[6], struct netdev *nd);

#endif
