/* devices/rtc_cmos.c: the Motorola MC146818 real-time clock and the PC's
 * 128 bytes of CMOS RAM.
 *
 *   0x70  index (bits 6-0) and NMI mask (bit 7, recorded only: NMIs are
 *         not blocked yet); reads as 0xFF (write-only on a PC)
 *   0x71  the register / RAM byte at the index
 *
 * Registers: 0-9 seconds, alarm seconds, minutes, alarm minutes, hours,
 * alarm hours, weekday (1 = Sunday), day, month, year; 0x32 the century
 * (IBM's place, as SeaBIOS's FADT tells Linux); A (UIP, divider, rate),
 * B (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), C (IRQF, PF, AF, UF: read
 * clears), D (VRT always 1). Bytes 0x0E-0x7F other than 0x32 are plain
 * storage the board fills with rtc_cmos_set before reset; they, the time and
 * registers A, B survive machine reset, which acts as the chip's RESET pin
 * (clears PIE, AIE, UIE, SQWE and the flags, drops the IRQ).
 *
 * Time: the clock is base_time (seconds since 1970, UTC) plus virtual time.
 * The 32768 Hz divider chain is derived from virtual time by exact integer
 * arithmetic from div_origin_ns (when the divider was last started); the
 * time of day is time_offset + whole seconds of the divider since then, so
 * nothing drifts. Updates (the seconds tick, UF, the alarm check) happen on
 * every 32768th divider tick; UIP is set for the 8 ticks (244 us) before.
 * While the clock is held (SET = 1, or a divider other than 010) the time
 * registers are plain bytes the guest may write; when it runs again they
 * are read back as the new time (same divider phase). A time register
 * written while the clock runs adjusts the time the same way.
 *
 * Interrupt flags are computed lazily: before any register access and in
 * next_event, the flags due since the last look are set (so polling reg C
 * works with interrupts disabled), IRQF follows the enables, and the IRQ
 * line goes high when IRQF does and stays high until reg C is read.
 * next_event reports the next periodic tick or update while an interrupt
 * is enabled for it (TIME_NEVER otherwise); a write to reg A or B lowers
 * the deadline the machine holds (rtc_deadline_changed calls
 * machine_timer_changed).
 *
 * Not modelled: daylight saving (DSE is stored only), the square-wave
 * output pin, the 4.194304 and 1.048576 MHz time bases (those dividers and
 * the divider reset stop the clock); the weekday register is computed from
 * the date rather than counted. Periodic rates 1 and 2 are 256 and 128 Hz,
 * as the datasheet gives them for a 32768 Hz time base.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/savestate.h"
#include "core/ioport.h"
#include "core/machine.h"
#include "devices/device.h"

#define RTC_BASE        0x70
#define RTC_HZ          32768u
#define NS_PER_SEC      1000000000u
#define UIP_TICKS       8u          /* 8 / 32768 s = 244 us */
#define SECONDS_PER_DAY 86400

enum {
    REG_SEC = 0x00, REG_ALARM_SEC = 0x01, REG_MIN = 0x02, REG_ALARM_MIN = 0x03,
    REG_HOUR = 0x04, REG_ALARM_HOUR = 0x05, REG_WEEKDAY = 0x06, REG_DAY = 0x07,
    REG_MONTH = 0x08, REG_YEAR = 0x09, REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C,
    REG_D = 0x0D, REG_CENTURY = 0x32,
};

enum { A_UIP = 0x80, A_DV_MASK = 0x70, A_DV_NORMAL = 0x20, A_RS_MASK = 0x0F };
enum { B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_SQWE = 0x08, B_DM_BINARY = 0x04,
       B_24H = 0x02, B_DSE = 0x01 };
enum { C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10 };
enum { D_VRT = 0x80 };

#define ALARM_DONT_CARE 0xC0        /* an alarm byte with both top bits set matches anything */

struct rtc_cmos {
    struct machine  *machine;
    struct irq_line *irq;           /* IRQ 8; may be NULL */
    bool             irq_level;

    uint8_t  ram[128];              /* CMOS RAM; the clock registers are kept apart below */
    uint8_t  index;                 /* selected by port 0x70 (7 bits) */
    bool     nmi_masked;            /* port 0x70 bit 7 */

    uint8_t  reg_a;                 /* without UIP, which is computed */
    uint8_t  reg_b;
    uint8_t  flags;                 /* reg C: PF, AF, UF (IRQF computed) */

    /* the running clock: second = time_offset + divider seconds */
    int64_t  div_origin_ns;         /* virtual time of divider tick 0 */
    int64_t  time_offset;
    uint64_t flags_checked_ns;      /* flags are up to date for (.., this] */

    /* the held clock (SET or divider stopped): the time registers as bytes,
     * indexed by REG_SEC..REG_YEAR, plus the century */
    uint8_t  held[10];
    uint8_t  held_century;
};

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- register encoding (BCD or binary, 12 or 24 hours) ---- */

static uint8_t rtc_encode(const struct rtc_cmos *r, int v)
{
    v = (v % 100 + 100) % 100;
    return r->reg_b & B_DM_BINARY ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_decode(const struct rtc_cmos *r, uint8_t v)
{
    return r->reg_b & B_DM_BINARY ? v : (v >> 4) * 10 + (v & 15);
}

static uint8_t rtc_encode_hour(const struct rtc_cmos *r, int hour)
{
    if (r->reg_b & B_24H)
        return rtc_encode(r, hour);
    int h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(rtc_encode(r, h12) | (hour >= 12 ? 0x80 : 0));
}

static int rtc_decode_hour(const struct rtc_cmos *r, uint8_t v)
{
    if (r->reg_b & B_24H)
        return rtc_decode(r, v);
    int h = rtc_decode(r, v & 0x7F) % 12;
    return v & 0x80 ? h + 12 : h;
}

/* The time registers (REG_SEC..REG_YEAR, alarm slots untouched) and the
 * century for the time t (seconds since 1970). */
static void rtc_time_to_regs(const struct rtc_cmos *r, int64_t t, uint8_t regs[10], uint8_t *century)
{
    int64_t days = floor_div(t, SECONDS_PER_DAY);
    int64_t sod = t - days * SECONDS_PER_DAY;
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    regs[REG_SEC] = rtc_encode(r, (int)(sod % 60));
    regs[REG_MIN] = rtc_encode(r, (int)(sod / 60 % 60));
    regs[REG_HOUR] = rtc_encode_hour(r, (int)(sod / 3600));
    regs[REG_WEEKDAY] = rtc_encode(r, (int)((days % 7 + 11) % 7) + 1);   /* 1970-01-01: Thursday */
    regs[REG_DAY] = rtc_encode(r, day);
    regs[REG_MONTH] = rtc_encode(r, month);
    regs[REG_YEAR] = rtc_encode(r, (int)(year % 100));
    *century = rtc_encode(r, (int)(floor_div(year, 100) % 100));
}

/* Whatever the guest wrote, a time: out-of-range fields carry over. */
static int64_t rtc_regs_to_time(const struct rtc_cmos *r, const uint8_t regs[10], uint8_t century)
{
    int month = rtc_decode(r, regs[REG_MONTH]);
    if (month < 1)
        month = 1;
    if (month > 12)
        month = 12;
    int64_t year = rtc_decode(r, century) * 100 + rtc_decode(r, regs[REG_YEAR]);
    int64_t days = days_from_civil(year, month, rtc_decode(r, regs[REG_DAY]));
    return days * SECONDS_PER_DAY + rtc_decode_hour(r, regs[REG_HOUR]) * 3600 +
           rtc_decode(r, regs[REG_MIN]) * 60 + rtc_decode(r, regs[REG_SEC]);
}

/* ---- the divider chain ---- */

static bool rtc_divider_running(const struct rtc_cmos *r)
{
    return (r->reg_a & A_DV_MASK) == A_DV_NORMAL;
}

static bool rtc_clock_running(const struct rtc_cmos *r)
{
    return rtc_divider_running(r) && !(r->reg_b & B_SET);
}

/* Divider ticks in (div_origin, t]. */
static uint64_t rtc_ticks_at(const struct rtc_cmos *r, uint64_t t_ns)
{
    if ((int64_t)t_ns <= r->div_origin_ns)
        return 0;
    uint64_t dt = (uint64_t)((int64_t)t_ns - r->div_origin_ns);
    return dt / NS_PER_SEC * RTC_HZ + dt % NS_PER_SEC * RTC_HZ / NS_PER_SEC;
}

/* Virtual time of divider tick k. */
static uint64_t rtc_time_of_tick(const struct rtc_cmos *r, uint64_t k)
{
    uint64_t dt = k / RTC_HZ * NS_PER_SEC + (k % RTC_HZ * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
    return (uint64_t)(r->div_origin_ns + (int64_t)dt);
}

/* Periodic interrupt period in divider ticks; 0: off. */
static uint32_t rtc_periodic_ticks(const struct rtc_cmos *r)
{
    unsigned rs = r->reg_a & A_RS_MASK;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        rs += 7;                    /* 256 and 128 Hz */
    return 1u << (rs - 1);
}

static int64_t rtc_now_time(const struct rtc_cmos *r, uint64_t now)
{
    return r->time_offset + (int64_t)(rtc_ticks_at(r, now) / RTC_HZ);
}

static bool rtc_alarm_matches(const struct rtc_cmos *r, int64_t t)
{
    uint8_t regs[10], century;
    rtc_time_to_regs(r, t, regs, &century);
    static const uint8_t pairs[3][2] = {
        { REG_ALARM_SEC, REG_SEC }, { REG_ALARM_MIN, REG_MIN }, { REG_ALARM_HOUR, REG_HOUR },
    };
    for (int i = 0; i < 3; i++) {
        uint8_t alarm = r->ram[pairs[i][0]];
        if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm != regs[pairs[i][1]])
            return false;
    }
    return true;
}

/* The IRQ pin follows IRQF: high from the moment an enabled flag is set
 * until reg C is read (or the enable is cleared). */
static void rtc_update_irq(struct rtc_cmos *r)
{
    bool level = (r->flags & r->reg_b & (C_PF | C_AF | C_UF)) != 0;
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set_level(r->irq, level);
    }
}

/* Set the flags of the events in (flags_checked_ns, now]. */
static void rtc_catch_up(struct rtc_cmos *r, uint64_t now)
{
    if (now <= r->flags_checked_ns)
        return;
    if (rtc_divider_running(r)) {
        uint64_t t0 = rtc_ticks_at(r, r->flags_checked_ns), t1 = rtc_ticks_at(r, now);
        uint32_t period = rtc_periodic_ticks(r);
        if (period && t1 / period > t0 / period)
            r->flags |= C_PF;
        if (!(r->reg_b & B_SET) && t1 / RTC_HZ > t0 / RTC_HZ) {
            r->flags |= C_UF;
            /* the alarm pattern repeats daily: a day of updates is enough */
            uint64_t first = t0 / RTC_HZ + 1, last = t1 / RTC_HZ;
            if (last - first >= SECONDS_PER_DAY)
                first = last - SECONDS_PER_DAY + 1;
            for (uint64_t s = first; s <= last && !(r->flags & C_AF); s++)
                if (rtc_alarm_matches(r, r->time_offset + (int64_t)s))
                    r->flags |= C_AF;
        }
    }
    r->flags_checked_ns = now;
    rtc_update_irq(r);
}

/* The next time an enabled flag can be set, or TIME_NEVER. */
static uint64_t rtc_deadline(const struct rtc_cmos *r, uint64_t now)
{
    if (!rtc_divider_running(r))
        return TIME_NEVER;
    uint64_t ticks = rtc_ticks_at(r, now);
    uint64_t next = TIME_NEVER;
    uint32_t period = rtc_periodic_ticks(r);
    if ((r->reg_b & B_PIE) && period)
        next = rtc_time_of_tick(r, (ticks / period + 1) * period);
    if ((r->reg_b & (B_AIE | B_UIE)) && !(r->reg_b & B_SET)) {
        uint64_t update = rtc_time_of_tick(r, (ticks / RTC_HZ + 1) * RTC_HZ);
        if (update < next)
            next = update;
    }
    return next;
}

/* An enable or the rate changed while the machine holds our old deadline
 * (and the nearest of all, for this CPU slice and a HLT in it). */
static void rtc_deadline_changed(struct rtc_cmos *r, uint64_t now)
{
    machine_timer_changed(r->machine, r, rtc_deadline(r, now));
}

/* Freeze the running time into the held registers. */
static void rtc_hold(struct rtc_cmos *r, uint64_t now)
{
    rtc_time_to_regs(r, rtc_now_time(r, now), r->held, &r->held_century);
}

/* Run from the held registers, keeping the divider's phase. */
static void rtc_release(struct rtc_cmos *r, uint64_t now)
{
    int64_t t = rtc_regs_to_time(r, r->held, r->held_century);
    r->time_offset = t - (int64_t)(rtc_ticks_at(r, now) / RTC_HZ);
}

static bool is_time_register(uint8_t index)
{
    return index == REG_SEC || index == REG_MIN || index == REG_HOUR || index == REG_WEEKDAY ||
           index == REG_DAY || index == REG_MONTH || index == REG_YEAR || index == REG_CENTURY;
}

/* A time register as the guest reads it. */
static uint8_t rtc_time_register(struct rtc_cmos *r, uint8_t index, uint64_t now)
{
    uint8_t regs[10], century;
    if (rtc_clock_running(r)) {
        rtc_time_to_regs(r, rtc_now_time(r, now), regs, &century);
    } else {
        for (int i = 0; i < 10; i++)
            regs[i] = r->held[i];
        century = r->held_century;
    }
    return index == REG_CENTURY ? century : regs[index];
}

static uint8_t rtc_read_reg_a(const struct rtc_cmos *r, uint64_t now)
{
    uint8_t v = r->reg_a;
    if (rtc_clock_running(r) && rtc_ticks_at(r, now) % RTC_HZ >= RTC_HZ - UIP_TICKS)
        v |= A_UIP;
    return v;
}

/* A register read without side effects (reg C is not cleared). */
static uint8_t rtc_peek(struct rtc_cmos *r, uint8_t index, uint64_t now)
{
    if (is_time_register(index))
        return rtc_time_register(r, index, now);
    switch (index) {
    case REG_A:
        return rtc_read_reg_a(r, now);
    case REG_B:
        return r->reg_b;
    case REG_C:
        return (uint8_t)(r->flags | ((r->flags & r->reg_b & (C_PF | C_AF | C_UF)) ? C_IRQF : 0));
    case REG_D:
        return D_VRT;
    default:
        return r->ram[index];
    }
}

static void rtc_write_time_register(struct rtc_cmos *r, uint8_t index, uint8_t v, uint64_t now)
{
    bool running = rtc_clock_running(r);
    if (running)
        rtc_hold(r, now);
    if (index == REG_CENTURY)
        r->held_century = v;
    else
        r->held[index] = v;
    if (running)
        rtc_release(r, now);
}

static void rtc_write_reg_a(struct rtc_cmos *r, uint8_t v, uint64_t now)
{
    bool was_running = rtc_clock_running(r);
    bool divider_was_running = rtc_divider_running(r);
    if (was_running)
        rtc_hold(r, now);
    r->reg_a = v & (uint8_t)~A_UIP;
    if (rtc_divider_running(r) && !divider_was_running) {
        /* the divider restarts: the first update comes 500 ms later */
        r->div_origin_ns = (int64_t)now - NS_PER_SEC / 2;
        r->flags_checked_ns = now;
    }
    if (rtc_clock_running(r))
        rtc_release(r, now);        /* same phase unless the divider restarted */
    uint8_t dv = v & A_DV_MASK;
    if (dv != A_DV_NORMAL && dv < 0x60)
        machine_log(r->machine, LOG_UNIMP, "rtc_cmos: divider %u%u%u not modelled, clock stopped\n",
                    dv >> 6 & 1, dv >> 5 & 1, dv >> 4 & 1);
}

static void rtc_write_reg_b(struct rtc_cmos *r, uint8_t v, uint64_t now)
{
    if (v & B_SET)
        v &= (uint8_t)~B_UIE;       /* setting SET clears UIE */
    bool was_running = rtc_clock_running(r);
    bool will_run = rtc_divider_running(r) && !(v & B_SET);
    /* held bytes are in the format of the moment, as in the chip; a format
     * change is not converted (a running clock just reads in the new one) */
    if (was_running && !will_run)
        rtc_hold(r, now);
    r->reg_b = v;
    if (!was_running && will_run)
        rtc_release(r, now);
    rtc_update_irq(r);
}

static uint32_t rtc_port_read(void *opaque, uint16_t port, int size)
{
    struct rtc_cmos *r = opaque;
    (void)size;
    if (port == RTC_BASE)
        return 0xFF;
    uint64_t now = machine_now(r->machine);
    rtc_catch_up(r, now);
    uint8_t v = rtc_peek(r, r->index, now);
    if (r->index == REG_C) {
        r->flags = 0;
        if (r->irq_level) {
            r->irq_level = false;
            irq_set_level(r->irq, false);
        }
    }
    return v;
}

static void rtc_port_write(void *opaque, uint16_t port, uint32_t value, int size)
{
    struct rtc_cmos *r = opaque;
    uint8_t v = (uint8_t)value;
    (void)size;
    if (port == RTC_BASE) {
        r->index = v & 0x7F;
        r->nmi_masked = v & 0x80;
        return;
    }
    uint64_t now = machine_now(r->machine);
    rtc_catch_up(r, now);
    uint8_t index = r->index;
    if (is_time_register(index)) {
        rtc_write_time_register(r, index, v, now);
        return;
    }
    switch (index) {
    case REG_A:
        rtc_write_reg_a(r, v, now);
        break;
    case REG_B:
        rtc_write_reg_b(r, v, now);
        break;
    case REG_C:
    case REG_D:
        machine_log(r->machine, LOG_GUEST_ERRORS, "rtc_cmos: write 0x%02x to read-only register 0x%x\n",
                    v, index);
        return;
    default:
        r->ram[index] = v;          /* alarm bytes and CMOS RAM */
        return;
    }
    rtc_deadline_changed(r, now);
}

static uint64_t rtc_next_event(void *opaque, uint64_t now_ns)
{
    struct rtc_cmos *r = opaque;
    rtc_catch_up(r, now_ns);
    return rtc_deadline(r, now_ns);
}

/* The RESET pin: interrupt enables and flags go, the clock and RAM stay. */
static void rtc_reset(void *opaque)
{
    struct rtc_cmos *r = opaque;
    uint64_t now = machine_now(r->machine);
    rtc_catch_up(r, now);
    r->reg_b &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->flags = 0;
    r->irq_level = false;
    irq_set_level(r->irq, false);
}

static const struct ioport_ops rtc_port_ops = { rtc_port_read, rtc_port_write };

/* ---- save state ---- */

/* The running clock is div_origin_ns (virtual time, saved with the
 * machine's clock) plus time_offset: saved as they are, it goes on where
 * it was. */
static const struct state_field rtc_fields[] = {
    STATE_BOOL(struct rtc_cmos, irq_level),
    STATE_ARRAY(struct rtc_cmos, ram),
    STATE_U8(struct rtc_cmos, index),
    STATE_BOOL(struct rtc_cmos, nmi_masked),
    STATE_U8(struct rtc_cmos, reg_a),
    STATE_U8(struct rtc_cmos, reg_b),
    STATE_U8(struct rtc_cmos, flags),
    STATE_INT(struct rtc_cmos, div_origin_ns),
    STATE_INT(struct rtc_cmos, time_offset),
    STATE_U64(struct rtc_cmos, flags_checked_ns),
    STATE_ARRAY(struct rtc_cmos, held),
    STATE_U8(struct rtc_cmos, held_century),
};
static const struct state_desc rtc_state = STATE_DESC("rtc_cmos", 1, rtc_fields);

static int rtc_post_load(void *opaque)
{
    struct rtc_cmos *r = opaque;
    if (r->index >= sizeof r->ram)
        return -1;
    irq_set_level(r->irq, r->irq_level);
    return 0;
}

static const struct device_ops rtc_cmos_device_ops = {
    .name = "rtc_cmos",
    .state = &rtc_state,
    .post_load = rtc_post_load,
    .reset = rtc_reset,
    .next_event = rtc_next_event,
    .destroy = free,
};

int rtc_cmos_create(struct machine *m, struct irq_line *irq, int64_t base_time,
                    struct rtc_cmos **out)
{
    if (out)
        *out = NULL;
    struct rtc_cmos *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->machine = m;
    r->irq = irq;
    /* battery-backed state as a PC BIOS leaves it: 32768 Hz divider,
     * 1024 Hz rate, BCD, 24 hours */
    r->reg_a = A_DV_NORMAL | 0x06;
    r->reg_b = B_24H;
    uint64_t now = machine_now(m);
    r->div_origin_ns = (int64_t)now;
    r->flags_checked_ns = now;
    r->time_offset = base_time;
    rtc_hold(r, now);
    if (ioport_register(&m->io, RTC_BASE, 2, &rtc_port_ops, r) != 0) {
        free(r);
        return -1;
    }
    if (machine_add_device(m, &rtc_cmos_device_ops, r) != 0) {
        ioport_unregister(&m->io, RTC_BASE, 2);
        free(r);
        return -1;
    }
    if (out)
        *out = r;
    return 0;
}

void rtc_cmos_set(struct rtc_cmos *rtc, int index, uint8_t value)
{
    if (!rtc || index < 0 || index >= 128)
        return;
    /* the board sets RAM; the clock registers come from base_time */
    if (index >= REG_D + 1 && index != REG_CENTURY)
        rtc->ram[index] = value;
}

uint8_t rtc_cmos_get(struct rtc_cmos *rtc, int index)
{
    if (!rtc || index < 0 || index >= 128)
        return 0xFF;
    uint64_t now = machine_now(rtc->machine);
    rtc_catch_up(rtc, now);
    return rtc_peek(rtc, (uint8_t)index, now);
}
