/* tests/baremetal/kbd_echo.c: a kernel for the SDL window test
 * (tests/sdl/test_sdl_window.sh), not a self-checking test: it says
 * "ready" on port 0xE9, then prints every byte the keyboard controller
 * delivers (port 0x60, polled; translated to set 1 as after reset) as two
 * hex digits and a newline, and passes (exit status 33) when the break code
 * of Esc (0x81) arrives. It enables the PS/2 mouse first (A8, then D4 F4:
 * reporting on); mouse bytes (status AUX) are printed as "m" and the byte.
 * Interrupts stay off: nothing here needs them. */
#include "runtime.h"

#define I8042_STATUS_OBF 0x01
#define I8042_STATUS_AUX 0x20
#define KEY_ESC_BREAK    0x81

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
    }
}
