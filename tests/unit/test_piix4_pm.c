/* tests/unit/test_piix4_pm.c: the PIIX4 power-management function without
 * a CPU.
 *
 * Each test builds a machine with PCI bus 0 and the function at 00:01.3,
 * programs it through 0xCF8/0xCFC and its ports as SeaBIOS and Linux do
 * (PM block at 0xB000, SMBus at 0xB100), lets virtual time pass through
 * idle_ns and watches the SCI line (ISA IRQ 9) it drives.
 */
#include <check.h>
#include <stdlib.h>

#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "device_clock.h"

#define PM_BASE   0xB000
#define SMB_BASE  0xB100
#define PM1_STS   (PM_BASE + 0)
#define PM1_EN    (PM_BASE + 2)
#define PM1_CNT   (PM_BASE + 4)
#define PM_TMR    (PM_BASE + 8)
#define GPE0_STS  0xAFE0
#define GPE0_EN   0xAFE2
#define DEVFN     PCI_DEVFN(1, 3)

/* 2^23 ticks of 3.579545 MHz, rounded up: the first bit-23 toggle */
#define FIRST_TOGGLE_NS 2343484438ull

struct bench {
    struct machine *m;
    struct pci_bus *bus;
    struct piix4_pm *pm;
    struct pci_device isa_bridge;   /* function 0 of slot 1, so function 3 is visible */
    struct irq_line sci;
    bool sci_level;
    int sci_edges;
    int dev;                        /* index of the PM function in m->devices */
};

static void record_sci(void *opaque, int pin, bool level)
{
    struct bench *b = opaque;
    (void)pin;
    if (level && !b->sci_level)
        b->sci_edges++;
    b->sci_level = level;
}

static struct bench *bench_new(void)
{
    struct bench *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    char err[128];
    b->m = machine_create(&(struct machine_config){ .ram_size = 16 << 20 }, err, sizeof err);
    ck_assert_ptr_nonnull(b->m);
    ck_assert_int_eq(pci_bus_create(b->m, &b->bus), 0);
    pci_config_init(&b->isa_bridge, 0x8086, 0x7000, 0, 0x060100, 0x80);
    ck_assert_int_eq(pci_register_device(b->bus, &b->isa_bridge, PCI_DEVFN(1, 0)), 0);
    b->sci = (struct irq_line){ .set_level = record_sci, .opaque = b, .pin = 9 };
    b->dev = b->m->ndevices;
    ck_assert_int_eq(piix4_pm_create(b->m, b->bus, DEVFN, &b->sci, PIIX4_PM_COM1, &b->pm), 0);
    ck_assert_ptr_nonnull(b->pm);
    machine_reset(b->m);
    return b;
}

static void bench_free(struct bench *b)
{
    machine_destroy(b->m);
    free(b);
}

static void cfg_select(struct bench *b, int reg)
{
    ioport_write(&b->m->io, 0xCF8, 0x80000000u | (uint32_t)DEVFN << 8 | (uint32_t)(reg & 0xFC), 4);
}

static uint32_t cfg_read(struct bench *b, int reg, int size)
{
    cfg_select(b, reg);
    return ioport_read(&b->m->io, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_write(struct bench *b, int reg, uint32_t v, int size)
{
    cfg_select(b, reg);
    ioport_write(&b->m->io, (uint16_t)(0xCFC + (reg & 3)), v, size);
}

static uint32_t in(struct bench *b, uint16_t port, int size) { return ioport_read(&b->m->io, port, size); }
static void out(struct bench *b, uint16_t port, uint32_t v, int size) { ioport_write(&b->m->io, port, v, size); }

/* SeaBIOS's piix4_pm_config_setup with its default pm base 0xB000 */
static void seabios_setup(struct bench *b)
{
    cfg_write(b, PCI_INTERRUPT_LINE, 9, 1);
    cfg_write(b, 0x40, PM_BASE | 1, 4);
    cfg_write(b, 0x80, 0x01, 1);
    cfg_write(b, 0x90, SMB_BASE | 1, 4);
    cfg_write(b, 0xD2, 0x09, 1);
    cfg_write(b, PCI_COMMAND, PCI_COMMAND_IO, 2);
}

START_TEST(pci_ids_and_config)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(cfg_read(b, 0x00, 4), 0x71138086);
    ck_assert_uint_eq(cfg_read(b, 0x08, 4), 0x06800003);     /* class 06 80 00, revision 3 */
    ck_assert_uint_eq(cfg_read(b, PCI_HEADER_TYPE, 1), 0x00);
    ck_assert_uint_eq(cfg_read(b, PCI_INTERRUPT_PIN, 1), 1);   /* INTA# */
    ck_assert_uint_eq(cfg_read(b, 0x40, 4), 0x00000001);      /* PMBA: I/O indicator only */
    ck_assert_uint_eq(cfg_read(b, 0x90, 4), 0x00000001);      /* SMBBA */
    ck_assert_uint_eq(cfg_read(b, 0x80, 1), 0);               /* PM I/O not decoded */
    ck_assert_uint_eq(cfg_read(b, 0xD2, 1), 0);               /* SMBus host disabled */
    ck_assert_uint_eq(cfg_read(b, 0x5B, 1), 0x02);            /* APMC_EN: no SMM to set up */
    ck_assert_uint_eq(cfg_read(b, 0x5F, 1), 0x10);            /* no LPT */
    ck_assert_uint_eq(cfg_read(b, 0x67, 1), 0x08);            /* COM1 decoded, COM2 not */
    /* base registers keep only their address bits; bit 0 stays 1 */
    cfg_write(b, 0x40, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(b, 0x40, 4), 0x0000FFC1);
    cfg_write(b, 0x90, 0xFFFFFFFF, 4);
    ck_assert_uint_eq(cfg_read(b, 0x90, 4), 0x0000FFF1);
    cfg_write(b, 0xD2, 0xFF, 1);
    ck_assert_uint_eq(cfg_read(b, 0xD2, 1), 0x0F);
    /* a machine reset puts them back */
    machine_reset(b->m);
    ck_assert_uint_eq(cfg_read(b, 0x40, 4), 0x00000001);
    ck_assert_uint_eq(cfg_read(b, 0xD2, 1), 0);
    bench_free(b);
}
END_TEST

START_TEST(pmba_enable_maps_the_block)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(in(b, PM1_CNT, 2), 0xFFFF);             /* nothing there yet */
    cfg_write(b, 0x40, PM_BASE | 1, 4);
    ck_assert_uint_eq(in(b, PM1_CNT, 2), 0xFFFF);             /* base set, PMIOSE clear */
    cfg_write(b, 0x80, 0x01, 1);
    ck_assert_uint_eq(in(b, PM1_CNT, 2), 0x0000);             /* decoded: PM1_CNT reads 0 */
    ck_assert_uint_eq(in(b, PM_TMR, 4) >> 24, 0);             /* a 24-bit timer */
    /* moving the base moves the block */
    cfg_write(b, 0x40, 0xC041, 4);
    ck_assert_uint_eq(in(b, PM1_CNT, 2), 0xFFFF);
    ck_assert_uint_eq(in(b, 0xC044, 2), 0x0000);
    cfg_write(b, 0x80, 0x00, 1);
    ck_assert_uint_eq(in(b, 0xC044, 2), 0xFFFF);
    /* the SMBus block also needs the command register's I/O enable */
    cfg_write(b, 0x90, SMB_BASE | 1, 4);
    cfg_write(b, 0xD2, 0x09, 1);
    ck_assert_uint_eq(in(b, SMB_BASE, 1), 0xFF);
    cfg_write(b, PCI_COMMAND, PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(in(b, SMB_BASE, 1), 0x00);
    /* machine reset: the bus clears the command register, PMREGMISC is 0 */
    cfg_write(b, 0x80, 0x01, 1);
    machine_reset(b->m);
    ck_assert_uint_eq(in(b, 0xC044, 2), 0xFFFF);
    ck_assert_uint_eq(in(b, SMB_BASE, 1), 0xFF);
    bench_free(b);
}
END_TEST

START_TEST(pm_timer_rate)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    device_clock_set(b->m, 1000000000ull);                    /* 1 s: 3579545 ticks */
    ck_assert_uint_eq(in(b, PM_TMR, 4), 3579545);
    device_clock_set(b->m, 1001000000ull);                    /* + 1 ms: 3579.545 more */
    ck_assert_uint_eq(in(b, PM_TMR, 4), 3579545 + 3579);
    device_clock_set(b->m, 1001000280ull);                    /* + 280 ns: one more tick */
    ck_assert_uint_eq(in(b, PM_TMR, 4), 3579545 + 3580);
    /* bytes of the register read like the dword */
    ck_assert_uint_eq(in(b, PM_TMR + 2, 1), (3579545 + 3580) >> 16);
    /* after 2^24 ticks (4.687 s) the counter wraps to 0 */
    device_clock_set(b->m, 4686968875ull);                    /* ceil(2^24 / f) ns */
    ck_assert_uint_eq(in(b, PM_TMR, 4), 0);
    device_clock_set(b->m, 4686968875ull + 1000000000ull);
    ck_assert_uint_eq(in(b, PM_TMR, 4), 3579545);
    /* ten virtual seconds count ten seconds of ticks (mod 2^24) */
    device_clock_set(b->m, 10000000000ull);
    ck_assert_uint_eq(in(b, PM_TMR, 4), 35795450u & 0xFFFFFF);
    bench_free(b);
}
END_TEST

START_TEST(timer_overflow_sci)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), TIME_NEVER);  /* TMR_EN clear */
    out(b, 0xB2, 0xF1, 1);                                    /* ACPI enable: SCI_EN */
    out(b, PM1_EN, 0x0001, 2);                                /* TMR_EN */
    ck_assert_uint_eq(b->m->devices[b->dev].deadline, FIRST_TOGGLE_NS);
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), FIRST_TOGGLE_NS);
    device_clock_advance(b->m, b->dev, FIRST_TOGGLE_NS - 1);
    ck_assert(!b->sci_level);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0);
    ck_assert_uint_eq(in(b, PM_TMR, 4), 0x7FFFFF);
    device_clock_advance(b->m, b->dev, FIRST_TOGGLE_NS);
    ck_assert(b->sci_level);
    ck_assert_int_eq(b->sci_edges, 1);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0x0001);             /* TMR_STS */
    ck_assert_uint_eq(in(b, PM_TMR, 4), 0x800000);
    /* writing 0 leaves it, writing 1 clears it and drops the SCI */
    out(b, PM1_STS, 0x0000, 2);
    ck_assert(b->sci_level);
    out(b, PM1_STS, 0x0001, 2);
    ck_assert(!b->sci_level);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0);
    /* the next toggle (bit 23 falling at the 2^24 wrap) comes 2^23 ticks later */
    ck_assert_uint_eq(device_clock_event(b->m, b->dev), 4686968875ull);
    device_clock_advance(b->m, b->dev, 4686968875ull);
    ck_assert_int_eq(b->sci_edges, 2);
    /* SCI_EN off (ACPI disable) masks it; status stays */
    out(b, 0xB2, 0xF0, 1);
    ck_assert(!b->sci_level);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0x0001);
    bench_free(b);
}
END_TEST

START_TEST(timer_status_without_enable)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    out(b, 0xB2, 0xF1, 1);
    device_clock_advance(b->m, b->dev, FIRST_TOGGLE_NS + 1000);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0x0001);             /* status is set regardless */
    ck_assert(!b->sci_level);                                 /* but TMR_EN masks the SCI */
    /* enabling it with the status pending raises the SCI at once */
    out(b, PM1_EN, 0x0001, 2);
    ck_assert(b->sci_level);
    bench_free(b);
}
END_TEST

START_TEST(w1c_and_enable_registers)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    out(b, 0xB2, 0xF1, 1);
    out(b, PM1_EN, 0x0100, 2);                                /* PWRBTN_EN */
    ck_assert_uint_eq(in(b, PM1_EN, 2), 0x0100);
    piix4_pm_power_button(b->pm);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0x0100);
    ck_assert(b->sci_level);
    /* a byte write of the high half clears PWRBTN_STS (bit 8) */
    out(b, PM1_STS + 1, 0x01, 1);
    ck_assert_uint_eq(in(b, PM1_STS, 2), 0);
    ck_assert(!b->sci_level);
    /* a dword write to PM1_EVT: status 0 (nothing cleared), enable 0 */
    piix4_pm_power_button(b->pm);
    out(b, PM1_STS, 0x00000000, 4);
    ck_assert_uint_eq(in(b, PM1_STS, 4), 0x00000100);
    ck_assert(!b->sci_level);
    /* GPE0: enable is read/write, status write-one-to-clear */
    out(b, GPE0_EN, 0x0102, 2);
    ck_assert_uint_eq(in(b, GPE0_EN, 2), 0x0102);
    piix4_pm_gpe_event(b->pm, 1);
    piix4_pm_gpe_event(b->pm, 3);
    ck_assert_uint_eq(in(b, GPE0_STS, 2), 0x000A);
    out(b, GPE0_STS, 0x0008, 2);
    ck_assert_uint_eq(in(b, GPE0_STS, 2), 0x0002);
    ck_assert_uint_eq(in(b, GPE0_STS, 4), 0x01020002);        /* status and enable as a dword */
    bench_free(b);
}
END_TEST

START_TEST(gpe_sci)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    piix4_pm_gpe_event(b->pm, 9);                             /* status set, not enabled */
    ck_assert_uint_eq(in(b, GPE0_STS + 1, 1), 0x02);
    ck_assert(!b->sci_level);
    out(b, GPE0_EN + 1, 0x02, 1);                             /* enabled, but SCI_EN clear */
    ck_assert(!b->sci_level);
    out(b, 0xB2, 0xF1, 1);
    ck_assert(b->sci_level);
    out(b, GPE0_STS + 1, 0x02, 1);
    ck_assert(!b->sci_level);
    ck_assert_uint_eq(in(b, GPE0_STS, 2), 0);
    piix4_pm_gpe_event(b->pm, 16);                            /* out of range: ignored */
    ck_assert_uint_eq(in(b, GPE0_STS, 2), 0);
    bench_free(b);
}
END_TEST

START_TEST(sleep_states)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    out(b, 0xB2, 0xF1, 1);
    /* S3 (SLP_TYP 1) is not modelled: the machine wakes at once */
    out(b, PM1_CNT, 0x2401, 2);
    ck_assert(!b->m->exit_requested);
    ck_assert_uint_eq(in(b, PM1_CNT, 2), 0x0401);             /* SLP_EN reads 0 */
    ck_assert_uint_eq(in(b, PM1_STS, 2) & 0x8000, 0x8000);    /* WAK_STS */
    out(b, PM1_STS, 0x8000, 2);
    ck_assert_uint_eq(in(b, PM1_STS, 2) & 0x8000, 0);
    /* SLP_TYP without SLP_EN does nothing */
    out(b, PM1_CNT, 0x0001, 2);
    ck_assert(!b->m->exit_requested);
    /* S5: SLP_TYP 0 with SLP_EN powers off, exit status 0 */
    out(b, PM1_CNT, 0x2001, 2);
    ck_assert(b->m->exit_requested);
    ck_assert_int_eq(b->m->exit_status, 0);
    bench_free(b);
}
END_TEST

START_TEST(s5_by_byte_write)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    out(b, PM1_CNT + 1, 0x20, 1);                             /* SeaBIOS's APM off: outw(0x2000) */
    ck_assert(b->m->exit_requested);
    ck_assert_int_eq(b->m->exit_status, 0);
    bench_free(b);
}
END_TEST

START_TEST(smi_cmd_toggles_sci_en)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    ck_assert_uint_eq(in(b, PM1_CNT, 2) & 1, 0);
    out(b, 0xB2, 0xF1, 1);
    ck_assert_uint_eq(in(b, PM1_CNT, 2) & 1, 1);
    ck_assert_uint_eq(in(b, 0xB2, 1), 0xF1);
    out(b, 0xB2, 0x55, 1);                                    /* other commands: no change */
    ck_assert_uint_eq(in(b, PM1_CNT, 2) & 1, 1);
    out(b, 0xB2, 0xF0, 1);
    ck_assert_uint_eq(in(b, PM1_CNT, 2) & 1, 0);
    out(b, 0xB3, 0x5A, 1);                                    /* APMS: storage */
    ck_assert_uint_eq(in(b, 0xB3, 1), 0x5A);
    out(b, 0xB2, 0xA5F1, 2);                                  /* a word write covers both */
    ck_assert_uint_eq(in(b, PM1_CNT, 2) & 1, 1);
    ck_assert_uint_eq(in(b, 0xB2, 2), 0xA5F1);
    bench_free(b);
}
END_TEST

START_TEST(hotplug_ports)
{
    struct bench *b = bench_new();
    ck_assert_uint_eq(in(b, 0xAF00, 1), 0x01);                /* CPU 0 present */
    ck_assert_uint_eq(in(b, 0xAF01, 1), 0x00);
    ck_assert_uint_eq(in(b, 0xAF1F, 1), 0x00);
    ck_assert_uint_eq(in(b, 0xAE00, 4), 0);                   /* PCIU */
    ck_assert_uint_eq(in(b, 0xAE04, 4), 0);                   /* PCID */
    ck_assert_uint_eq(in(b, 0xAE0C, 4), 0);                   /* PCRM: no removable slot */
    out(b, 0xAE10, 0, 4);                                     /* BNUM */
    ck_assert_uint_eq(in(b, 0xAE10, 4), 0);
    bench_free(b);
}
END_TEST

START_TEST(smbus_without_devices)
{
    struct bench *b = bench_new();
    seabios_setup(b);
    ck_assert_uint_eq(in(b, SMB_BASE + 0, 1), 0x00);          /* host idle */
    /* read byte data from the SPD EEPROM address 0x50 */
    out(b, SMB_BASE + 4, 0xA1, 1);
    out(b, SMB_BASE + 3, 0x00, 1);
    out(b, SMB_BASE + 2, 0x48, 1);                            /* START, byte data */
    ck_assert_uint_eq(in(b, SMB_BASE + 0, 1), 0x04);          /* DEV_ERR, not busy */
    ck_assert_uint_eq(in(b, SMB_BASE + 2, 1), 0x08);          /* START reads 0 */
    ck_assert(!b->sci_level);                                 /* INTREN clear */
    out(b, SMB_BASE + 0, 0x04, 1);
    ck_assert_uint_eq(in(b, SMB_BASE + 0, 1), 0x00);
    /* with INTREN the completion interrupts on IRQ 9 (SMBHSTCFG 0x09) */
    out(b, SMB_BASE + 2, 0x49, 1);
    ck_assert(b->sci_level);
    out(b, SMB_BASE + 0, 0x04, 1);
    ck_assert(!b->sci_level);
    /* KILL ends a transaction as failed */
    out(b, SMB_BASE + 2, 0x02, 1);
    ck_assert_uint_eq(in(b, SMB_BASE + 0, 1), 0x10);
    /* the block buffer is rewound by a read of HSTCNT */
    out(b, SMB_BASE + 0, 0x10, 1);
    out(b, SMB_BASE + 7, 0x11, 1);
    out(b, SMB_BASE + 7, 0x22, 1);
    (void)in(b, SMB_BASE + 2, 1);
    ck_assert_uint_eq(in(b, SMB_BASE + 7, 1), 0x11);
    ck_assert_uint_eq(in(b, SMB_BASE + 7, 1), 0x22);
    bench_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("piix4_pm");
    TCase *tc = tcase_create("piix4_pm");
    tcase_add_test(tc, pci_ids_and_config);
    tcase_add_test(tc, pmba_enable_maps_the_block);
    tcase_add_test(tc, pm_timer_rate);
    tcase_add_test(tc, timer_overflow_sci);
    tcase_add_test(tc, timer_status_without_enable);
    tcase_add_test(tc, w1c_and_enable_registers);
    tcase_add_test(tc, gpe_sci);
    tcase_add_test(tc, sleep_states);
    tcase_add_test(tc, s5_by_byte_write);
    tcase_add_test(tc, smi_cmd_toggles_sci_en);
    tcase_add_test(tc, hotplug_ports);
    tcase_add_test(tc, smbus_without_devices);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
