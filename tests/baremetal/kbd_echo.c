/* tests/baremetal/kbd_echo.c: a kernel for the SDL window test
 * (tests/sdl/test_sdl_window.sh), not a self-checking test: it says
 * "ready" on port 0xE9, then prints every byte the keyboard controller
 * delivers (port 0x60, polled; translated to set 1 as after reset) as two
 * hex digits and a newline, and passes (exit status 33) when the break code
 * of Esc (0x81) arrives. It enables the PS/2 mouse first (A8, then D4 F4:
 * reporting on); mouse bytes (status AUX) are printed as "m" and the byte.
 * Interrupts stay off: nothing here needs them.
 *
 * The V key's make code (0x2F) also switches the display to the Bochs VBE
 * mode 1920x1080x32 with the linear framebuffer (BAR 0 of the stdvga at
 * 00:02.0, mapped here at VBE_LFB_ADDR: no BIOS assigned it) and fills it:
 * left half red, right half blue, a white 64x64 square at the top left;
 * then says "vbe drawn". */
#include "runtime.h"

#define I8042_STATUS_OBF 0x01
#define I8042_STATUS_AUX 0x20
#define KEY_ESC_BREAK    0x81
#define KEY_V_MAKE       0x2F

#define VGA_PCI_DEV      2                       /* 00:02.0, as QEMU's pc machine */
#define VBE_LFB_ADDR     0xE0000000u
#define VBE_INDEX        0x1CE
#define VBE_DATA         0x1CF
#define VBE_W            1920
#define VBE_H            1080



static void vbe_write(uint16_t index, uint16_t v)
{
    outw(VBE_INDEX, index);
    outw(VBE_DATA, v);
}

static void draw_vbe(void)
{
    if (pci_read(VGA_PCI_DEV, 0) != 0x11111234u) {
        puts_e9("vbe: no stdvga at 00:02.0\n");
        return;
    }
    pci_write(VGA_PCI_DEV, 0x10, VBE_LFB_ADDR);                  /* BAR 0 */
    pci_write(VGA_PCI_DEV, 0x04, pci_read(VGA_PCI_DEV, 0x04) | 2); /* memory decode */
    vbe_write(4, 0);                                             /* disable */
    vbe_write(1, VBE_W);
    vbe_write(2, VBE_H);
    vbe_write(3, 32);
    vbe_write(4, 0x41);                                          /* enabled, LFB */
    volatile uint32_t *fb = (volatile uint32_t *)VBE_LFB_ADDR;
    for (uint32_t y = 0; y < VBE_H; y++)
        for (uint32_t x = 0; x < VBE_W; x++)
            fb[y * VBE_W + x] = x < 64 && y < 64 ? 0xFFFFFFu
                                : x < VBE_W / 2 ? 0xFF0000u : 0x0000FFu;
    puts_e9("vbe drawn\n");
}

void test_main(void)
{
    outb(0x64, 0xA8);                        /* enable the mouse port */
    outb(0x64, 0xD4);                        /* next byte to the mouse: */
    outb(0x60, 0xF4);                        /* enable reporting (answers FA) */
    puts_e9("ready\n");
    for (;;) {
        uint8_t status = inb(0x64);
        if (!(status & I8042_STATUS_OBF)) {
            asm volatile("pause");
            continue;
        }
        uint8_t byte = inb(0x60);
        if (status & I8042_STATUS_AUX) {
            printf_e9("m%02x\n", byte);
            continue;
        }
        printf_e9("%02x\n", byte);
        if (byte == KEY_ESC_BREAK)
            finish();
        if (byte == KEY_V_MAKE)
            draw_vbe();
    }
}
