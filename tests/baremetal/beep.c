/* tests/baremetal/beep.c: a kernel for the PC speaker test
 * (tests/audio/test_speaker.py), the way DOS programs beep: PIT counter 2
 * in mode 3 and port 0x61 bits 0-1. It times itself by counting counter
 * 2's OUT (port 0x61 bit 5), so the tones last the same number of periods
 * on any emulator at any speed:
 *   1. 440 Hz (count 2712) for 88 periods, 200 ms;
 *   2. 880 Hz (count 1356) for 176 periods, 200 ms;
 *   3. silence: gate on, speaker data off (bit 1 clear), 200 ms at 1 kHz;
 *   4. a 1 kHz tone (count 1193) started with bit 1 first and the gate
 *      last, for 100 periods, then 100 ms of silence.
 * It prints each step on port 0xE9 and passes (exit status 33). */
#include "runtime.h"

#define PIT_COUNTER2 0x42
#define PIT_CONTROL  0x43
#define PORT_B       0x61
#define PORTB_GATE2  0x01
#define PORTB_DATA   0x02
#define PORTB_OUT2   0x20

static void counter2_square(uint16_t count)
{
    outb(PIT_CONTROL, 0xB6);        /* counter 2, LSB then MSB, mode 3, binary */
    outb(PIT_COUNTER2, (uint8_t)count);
    outb(PIT_COUNTER2, (uint8_t)(count >> 8));
}

/* Wait for n rising edges of counter 2's OUT. */
static void wait_periods(unsigned n)
{
    bool last = inb(PORT_B) & PORTB_OUT2;
    while (n) {
        bool now = inb(PORT_B) & PORTB_OUT2;
        if (now && !last)
            n--;
        last = now;
    }
}

static void set_port_b(uint8_t bits)
{
    outb(PORT_B, (uint8_t)((inb(PORT_B) & 0x0C) | bits));
}

void test_main(void)
{
    puts_e9("beep: 440 Hz\n");
    counter2_square(2712);
    set_port_b(PORTB_GATE2 | PORTB_DATA);
    wait_periods(88);

    puts_e9("beep: 880 Hz\n");
    counter2_square(1356);
    wait_periods(176);

    puts_e9("beep: silence\n");
    counter2_square(1193);
    set_port_b(PORTB_GATE2);
    wait_periods(200);

    puts_e9("beep: 1 kHz\n");
    set_port_b(0);
    set_port_b(PORTB_DATA);
    set_port_b(PORTB_GATE2 | PORTB_DATA);
    wait_periods(100);
    set_port_b(PORTB_GATE2);        /* 100 ms of silence to end the recording */
    wait_periods(100);
    set_port_b(0);
    puts_e9("beep: done\n");
}
