/* tests/unit/test_monitor_qmp.c: the QMP JSON reader and protocol
 * (frontends/qmp.c) on a bare machine with a memory chardev: valid and
 * invalid JSON, the command set, message framing (several per read, one
 * split over reads, overlong), and random and truncated input (no crash,
 * every reply a JSON object with "return" or "error"). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/chardev.h"
#include "core/machine.h"
#include "frontends/monitor.h"
#include "frontends/qmp.h"

struct mem_chardev {
    struct chardev base;
    char out[1 << 20];
    size_t out_len;
};

static void mem_write(struct chardev *cd, const uint8_t *bytes, size_t len)
{
    struct mem_chardev *mc = (struct mem_chardev *)cd;
    if (mc->out_len + len >= sizeof(mc->out))
        mc->out_len = 0;   /* the tests read replies often; never overflow */
    memcpy(mc->out + mc->out_len, bytes, len);
    mc->out_len += len;
    mc->out[mc->out_len] = '\0';
}

static const struct chardev_ops mem_ops = { mem_write, NULL, NULL };

struct rig {
    struct machine *m;
    struct mem_chardev cd;
    struct monitor_shared shared;
    struct qmp *q;
};

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    char err[256];
    r->m = machine_create(&(struct machine_config){ .ram_size = 2u << 20 }, err, sizeof err);
    ck_assert_msg(r->m != NULL, "%s", err);
    r->cd.base.ops = &mem_ops;
    r->cd.base.name = "mem";
    r->q = qmp_create(r->m, &r->cd.base, &r->shared);
    ck_assert_ptr_nonnull(r->q);
    return r;
}

static void rig_free(struct rig *r)
{
    qmp_free(r->q);
    machine_destroy(r->m);
    free(r);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Feed text, return what came back (and clear it). */
static const char *send(struct rig *r, const char *text)
{
    static char reply[1 << 20];
    r->cd.out_len = 0;
    r->cd.out[0] = '\0';
    qmp_feed(r->q, text, strlen(text));
    memcpy(reply, r->cd.out, r->cd.out_len + 1);
    return reply;
}

/* Every line of out is a JSON object with "return", "error", "event" or "QMP";
 * returns the number of lines. */
static int check_replies(const char *out)
{
    int lines = 0;
    const char *p = out;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        ck_assert_msg(eol != NULL, "reply not ended by CR LF: %s", p);
        struct json_doc *doc = malloc(sizeof(*doc));
        char err[128];
        int root = json_parse(p, (size_t)(eol - p), doc, err, sizeof err);
        ck_assert_msg(root >= 0, "reply is not JSON (%s): %.*s", err, (int)(eol - p), p);
        ck_assert(json_get(doc, root, "return") || json_get(doc, root, "error")
                  || json_get(doc, root, "QMP") || json_get(doc, root, "event"));
        json_doc_free(doc);
        free(doc);
        lines++;
        p = eol + 2;
    }
    return lines;
}

START_TEST(json_valid)
{
    static struct json_doc doc;
    char err[128];
    const char *text = " {\"execute\": \"x\", \"arguments\": {\"a\": [1, -2.5e1, true, false, null, "
                       "\"s\\u00e9\\n\\\"\\/\"], \"b\": {}}, \"id\": 7} ";
    int root = json_parse(text, strlen(text), &doc, err, sizeof err);
    ck_assert_msg(root == 0, "%s", err);
    ck_assert_str_eq(json_get(&doc, root, "execute")->str, "x");
    ck_assert(json_get(&doc, root, "id")->number == 7);
    const struct json_node *args = json_get(&doc, root, "arguments");
    const struct json_node *a = json_get(&doc, (int)(args - doc.nodes), "a");
    ck_assert_int_eq(a->type, JSON_ARRAY);
    const struct json_node *n = &doc.nodes[a->first_child];
    ck_assert(n->number == 1);
    n = &doc.nodes[n->next];
    ck_assert(n->number == -25);
    n = &doc.nodes[n->next];
    ck_assert(n->type == JSON_BOOL && n->boolean);
    n = &doc.nodes[n->next];
    ck_assert(n->type == JSON_BOOL && !n->boolean);
    n = &doc.nodes[n->next];
    ck_assert_int_eq(n->type, JSON_NULL);
    n = &doc.nodes[n->next];
    ck_assert_str_eq(n->str, "s\xc3\xa9\n\"/");
    ck_assert_int_eq(n->next, -1);
    ck_assert_int_eq(json_get(&doc, (int)(args - doc.nodes), "b")->first_child, -1);
    ck_assert_ptr_null(json_get(&doc, root, "missing"));
    json_doc_free(&doc);
}
END_TEST

START_TEST(json_invalid)
{
    static struct json_doc doc;
    static const char *const bad[] = {
        "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "\"abc", "tru", "nul",
        "01x", "1.2.3", "-", "{\"a\":\"\\q\"}", "\"\\u00\"", "\"\\u0000\"", "{a:1}", "[1 2]",
        "{\"a\":1}}", "\"tab\there\"", "{\"a\":[}", "\"\\", "[\"\\\"]",
    };
    char err[128];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int root = json_parse(bad[i], strlen(bad[i]), &doc, err, sizeof err);
        ck_assert_msg(root < 0, "accepted bad JSON: %s", bad[i]);
        ck_assert(strstr(err, "JSON parse error") != NULL);
        json_doc_free(&doc);
    }
    /* depth and size limits */
    char deep[2 * (JSON_MAX_DEPTH + 8) + 1];
    int d = JSON_MAX_DEPTH + 8;
    for (int i = 0; i < d; i++) {
        deep[i] = '[';
        deep[d + i] = ']';
    }
    deep[2 * d] = '\0';
    ck_assert_int_lt(json_parse(deep, strlen(deep), &doc, err, sizeof err), 0);
    ck_assert(strstr(err, "deeply") != NULL);
    json_doc_free(&doc);
    static char many[8 * JSON_MAX_NODES];
    size_t len = 0;
    many[len++] = '[';
    for (int i = 0; i < JSON_MAX_NODES + 10; i++)
        len += (size_t)snprintf(many + len, sizeof(many) - len, i ? ",1" : "1");
    many[len++] = ']';
    ck_assert_int_lt(json_parse(many, len, &doc, err, sizeof err), 0);
    json_doc_free(&doc);
}
END_TEST

/* Random JSON-ish bytes and every truncation of a valid message: no crash,
 * and a truncated object is never accepted. */
START_TEST(json_fuzz)
{
    static struct json_doc doc;
    char err[128];
    const char *valid = "{\"execute\": \"human-monitor-command\", \"arguments\": "
                        "{\"command-line\": \"info \\\"x\\\" \\u0041\"}, \"id\": [1, {\"k\": null}]}";
    for (size_t n = 0; n < strlen(valid); n++) {
        ck_assert_msg(json_parse(valid, n, &doc, err, sizeof err) < 0, "prefix %zu accepted", n);
        json_doc_free(&doc);
    }
    ck_assert_int_eq(json_parse(valid, strlen(valid), &doc, err, sizeof err), 0);
    json_doc_free(&doc);
    static const char alphabet[] = "{}[]\":,\\ u0123456789abcdefnrtlsAE.-+\n\x01\xff";
    unsigned seed = 12345;
    char buf[256];
    for (int iter = 0; iter < 50000; iter++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 16) % sizeof(buf);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        /* sometimes a mutated valid message instead of noise */
        if (iter % 3 == 0) {
            len = strlen(valid);
            memcpy(buf, valid, len);
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 16) % len] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
        }
        int root = json_parse(buf, len, &doc, err, sizeof err);
        if (root >= 0)
            ck_assert_int_gt(doc.count, 0);
        json_doc_free(&doc);
    }
}
END_TEST

START_TEST(qmp_protocol)
{
    struct rig *r = rig_new();
    ck_assert(starts_with(r->cd.out, "{\"QMP\": {\"version\""));
    check_replies(r->cd.out);
    const char *out = send(r, "{\"execute\": \"query-status\"}");
    ck_assert_msg(strstr(out, "\"class\": \"CommandNotFound\"") && strstr(out, "qmp_capabilities"), "%s", out);
    ck_assert_str_eq(send(r, "{\"execute\": \"qmp_capabilities\"}\n"), "{\"return\": {}}\r\n");
    ck_assert_str_eq(send(r, "{\"execute\": \"query-status\", \"id\": \"a1\"}"),
                     "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, "
                     "\"id\": \"a1\"}\r\n");
    out = send(r, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}");
    ck_assert_msg(starts_with(out, "{\"return\": \"VM status: running") && strstr(out, "\\n\"}"), "%s", out);
    out = send(r, "{\"execute\": \"stop\"}");
    ck_assert_msg(starts_with(out, "{\"return\": {}}\r\n{\"event\": \"STOP\", \"timestamp\": {\"seconds\": ")
                  && check_replies(out) == 2, "%s", out);
    ck_assert(r->shared.stopped);
    ck_assert(strstr(send(r, "{\"execute\": \"query-status\"}"), "\"paused\""));
    out = send(r, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}");
    ck_assert_msg(strstr(out, "VM status: paused"), "%s", out);
    out = send(r, "{\"execute\": \"cont\"}");
    ck_assert_msg(strstr(out, "{\"event\": \"RESUME\"") && check_replies(out) == 2, "%s", out);
    ck_assert(!r->shared.stopped);
    /* the human monitor's stop is an event too, at the next poll */
    monitor_set_stopped(&r->shared, true);
    r->cd.out_len = 0;
    r->cd.out[0] = '\0';
    qmp_poll(r->q);
    ck_assert_msg(starts_with(r->cd.out, "{\"event\": \"STOP\"") && check_replies(r->cd.out) == 1,
                  "%s", r->cd.out);
    monitor_set_stopped(&r->shared, false);
    ck_assert(strstr(send(r, "{\"execute\": \"query-status\"}"), "\"running\""));
    ck_assert(strstr(r->cd.out, "RESUME"));
    /* a stop and a cont between two looks: both reported, in order */
    monitor_set_stopped(&r->shared, true);
    monitor_set_stopped(&r->shared, false);
    out = send(r, "{\"execute\": \"query-status\"}");
    const char *stop = strstr(out, "\"STOP\""), *resume = strstr(out, "\"RESUME\"");
    ck_assert_msg(stop && resume && stop < resume, "%s", out);
    ck_assert(strstr(send(r, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"/tmp/x.png\"}}"),
                     "no display device"));
    ck_assert(strstr(send(r, "{\"execute\": \"screendump\"}"), "'filename' is missing"));
    ck_assert(strstr(send(r, "{\"execute\": \"human-monitor-command\"}"), "'command-line' is missing"));
    ck_assert(strstr(send(r, "{\"execute\": \"no-such\", \"id\": 5}"), "\"CommandNotFound\""));
    ck_assert(strstr(send(r, "{\"execute\": \"no-such\", \"id\": 5}"), "\"id\": 5}"));
    ck_assert(strstr(send(r, "{\"execute\": \"query-commands\"}"), "{\"name\": \"screendump\"}"));
    out = send(r, "{\"execute\": \"system_reset\"}");
    ck_assert_msg(starts_with(out, "{\"return\": {}}\r\n{\"event\": \"RESET\", \"data\": {\"guest\": false"),
                  "%s", out);
    ck_assert(r->m->reset_requested);
    /* malformed input: one GenericError each, then all is well */
    static const char *const bad[] = {
        "{\"execute\": }", "garbage\n", "42\n", "[1, 2]", "{\"arguments\": {}}", "{\"execute\": 3}",
        "{\"execute\": \"stop\", \"arguments\": [1]}", "{\"execute\" \"x\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = send(r, bad[i]);
        ck_assert_msg(strstr(out, "\"class\": \"GenericError\"") && check_replies(out) == 1,
                      "%s -> %s", bad[i], out);
    }
    /* two messages in one read, one split over three */
    out = send(r, "{\"execute\": \"cont\"}{\"execute\": \"cont\"}");
    ck_assert_int_eq(check_replies(out), 2);
    ck_assert_str_eq(send(r, "{\"exec"), "");
    ck_assert_str_eq(send(r, "ute\": \"cont\", \"id\": \"}{\""), "");
    ck_assert_str_eq(send(r, "}"), "{\"return\": {}, \"id\": \"}{\"}\r\n");
    /* overlong: one error, the rest of that message skipped */
    static char big[QMP_MESSAGE_MAX * 2];
    strcpy(big, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"");
    size_t bl = strlen(big);
    memset(big + bl, 'x', sizeof(big) - bl - 8);
    strcpy(big + sizeof(big) - 8, "\"}}");
    out = send(r, big);
    ck_assert_msg(check_replies(out) == 1 && strstr(out, "too long"), "%.200s", out);
    ck_assert_str_eq(send(r, "{\"execute\": \"cont\"}"), "{\"return\": {}}\r\n");
    rig_free(r);
}
END_TEST

START_TEST(qmp_fuzz)
{
    struct rig *r = rig_new();
    send(r, "{\"execute\": \"qmp_capabilities\"}");
    static const char alphabet[] = "{}[]\":,\\ xecutqmp_sao0123\n\x01\xff";
    unsigned seed = 777;
    char buf[128];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        if (iter % 4 == 0) {   /* a valid command, truncated at random */
            const char *cmd = "{\"execute\": \"query-status\", \"id\": [1, \"x\"]}";
            len = (seed >> 16) % strlen(cmd);
            memcpy(buf, cmd, len);
        } else {
            len = (seed >> 16) % sizeof(buf);
            for (size_t i = 0; i < len; i++) {
                seed = seed * 1103515245u + 12345u;
                buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }
        }
        r->cd.out_len = 0;
        r->cd.out[0] = '\0';
        qmp_feed(r->q, buf, len);
        check_replies(r->cd.out);
        ck_assert(!r->m->exit_requested);   /* noise never spells quit here */
        if (iter % 100 == 99)
            qmp_client_gone(r->q);   /* as a disconnect would: forget a half message */
    }
    /* a new client after the noise: greeted, and served */
    r->cd.out_len = 0;
    qmp_greet(r->q);
    send(r, "{\"execute\": \"qmp_capabilities\"}");
    ck_assert(strstr(send(r, "{\"execute\": \"query-status\"}"), "\"status\""));
    rig_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("monitor_qmp");
    TCase *tc = tcase_create("qmp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, json_valid);
    tcase_add_test(tc, json_invalid);
    tcase_add_test(tc, json_fuzz);
    tcase_add_test(tc, qmp_protocol);
    tcase_add_test(tc, qmp_fuzz);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
