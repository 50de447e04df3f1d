/* tests/baremetal/uart.c: the 16550A UART on COM1 (0x3F8) as drivers use
 * it: scratch register, divisor latch behind DLAB, line control, IIR for
 * the THR-empty interrupt (raised when enabled, cleared by reading IIR),
 * loopback (data comes back through RBR with LSR.DR, modem lines follow
 * MCR), FIFO enable shown in IIR, and overrun without FIFO (the new byte replaces the old). Finally some
 * text goes out over the line (stdout with -nographic; not compared). */
#include "runtime.h"

#define COM1 0x3F8
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5,
       MSR = 6, SCR = 7 };

static uint8_t rd(int reg) { return inb(COM1 + reg); }
static void wr(int reg, uint8_t v) { outb(COM1 + reg, v); }

void test_main(void)
{
    puts_e9("uart: 16550A registers, loopback, FIFO\n");
    wr(SCR, 0x5A);
    uint8_t s1 = rd(SCR);
    wr(SCR, 0xA5);
    CHECK(s1 == 0x5A && rd(SCR) == 0xA5, "scratch register holds 5a, a5");

    wr(IER, 0);
    wr(LCR, 0x80);
    wr(DLL, 0x01);
    wr(DLM, 0x00);
    uint8_t dll = rd(DLL), dlm = rd(DLM);
    wr(LCR, 0x03);
    CHECK(dll == 1 && dlm == 0, "divisor latch %02x%02x (115200 baud)", dlm, dll);
    CHECK(rd(LCR) == 0x03 && rd(IER) == 0, "LCR 8N1 = %x, IER back = %x", rd(LCR), rd(IER));

    wr(FCR, 0);
    CHECK(rd(IIR) == 0x01, "no FIFO, no interrupt: IIR %x", rd(IIR));
    wr(IER, 0x02);
    uint8_t iir1 = rd(IIR), iir2 = rd(IIR);
    CHECK(iir1 == 0x02 && iir2 == 0x01, "THRE interrupt: IIR %x, then %x after reading it", iir1, iir2);
    wr(THR, 0);                    /* a NUL on the line re-arms THRE */
    CHECK(rd(IIR) == 0x02, "THR write re-arms THRE");
    wr(IER, 0);

    wr(MCR, 0x1F);                 /* loopback, OUT2 OUT1 RTS DTR */
    CHECK((rd(MSR) & 0xF0) == 0xF0, "loopback MSR lines follow MCR: %x", rd(MSR) & 0xF0);
    wr(MCR, 0x11);                 /* loopback, DTR only */
    CHECK((rd(MSR) & 0xF0) == 0x20, "loopback DTR -> DSR: %x", rd(MSR) & 0xF0);

    wr(FCR, 0x07);                 /* FIFO on, both cleared */
    CHECK((rd(IIR) & 0xC0) == 0xC0, "FIFO enabled shows in IIR: %x", rd(IIR));
    CHECK(rd(LSR) == 0x60, "LSR idle: %x", rd(LSR));
    wr(THR, 'f');
    wr(THR, 'o');
    wr(THR, 'x');
    uint8_t lsr = rd(LSR);
    char got[4];
    got[0] = (char)rd(RBR);
    got[1] = (char)rd(RBR);
    got[2] = (char)rd(RBR);
    got[3] = 0;
    CHECK(lsr == 0x61 && got[0] == 'f' && got[1] == 'o' && got[2] == 'x', "loopback FIFO: LSR %x, read \"%s\"", lsr, got);
    CHECK(rd(LSR) == 0x60, "FIFO drained: LSR %x", rd(LSR));

    wr(FCR, 0);                    /* no FIFO: the second byte overruns */
    wr(THR, '1');
    wr(THR, '2');
    uint8_t lsr_ov = rd(LSR);
    uint8_t lsr_after = rd(LSR);
    uint8_t byte = rd(RBR);
    CHECK((lsr_ov & 0x03) == 0x03 && (lsr_after & 0x02) == 0, "overrun: LSR %x then %x", lsr_ov, lsr_after);
    CHECK(byte == '2', "without FIFO the newer byte overwrote RBR: %c", byte);

    wr(MCR, 0x0B);
    const char *msg = "uart: hello over COM1\n";
    for (const char *p = msg; *p; p++) {
        while (!(rd(LSR) & 0x20))
            ;
        wr(THR, (uint8_t)*p);
    }
    CHECK(rd(LSR) & 0x40, "transmitter empty after sending");
}
