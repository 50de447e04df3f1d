/* frontends/qmp.c: the JSON monitor (see qmp.h). */
#include "qmp.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/chardev.h"
#include "core/machine.h"
#include "frontends/monitor.h"
#include "frontends/screendump.h"

/* ---- the JSON reader ---- */

struct json_parser {
    const char *p, *end;
    struct json_doc *doc;
    char *err;
    size_t errlen;
    bool failed;
};

static int parse_fail(struct json_parser *ps, const char *what)
{
    if (!ps->failed)
        snprintf(ps->err, ps->errlen, "JSON parse error: %s", what);
    ps->failed = true;
    return -1;
}

static void skip_ws(struct json_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Room for n more string bytes; returns the offset to write at, or -1. */
static long string_room(struct json_doc *doc, size_t n)
{
    if (doc->strings_used + n > doc->strings_cap) {
        size_t cap = (doc->strings_used + n) * 2 + 64;
        char *grown = realloc(doc->strings, cap);
        if (!grown)
            return -1;
        doc->strings = grown;
        doc->strings_cap = cap;
    }
    return (long)doc->strings_used;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* A string at ps->p (the opening quote); returns its offset in doc->strings.
 * Offsets, not pointers: the pool may move while parsing. */
static long parse_string(struct json_parser *ps)
{
    ps->p++;
    const char *start = ps->p;
    /* Unescaped it is never longer than escaped (\uXXXX: 6 bytes, at most 3 of UTF-8). */
    const char *close = start;
    while (close < ps->end && *close != '"') {
        if (*close == '\\')
            close++;
        close++;
    }
    if (close >= ps->end)
        return parse_fail(ps, "unterminated string");
    long off = string_room(ps->doc, (size_t)(close - start) + 1);
    if (off < 0)
        return parse_fail(ps, "out of memory");
    char *out = ps->doc->strings + off;
    size_t n = 0;
    const char *p = start;
    while (p < close) {
        unsigned char c = (unsigned char)*p++;
        if (c < 0x20)
            return parse_fail(ps, "control character in a string");
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        char e = *p++;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            int v = close - p >= 4 ? hex4(p) : -1;
            if (v <= 0)   /* \u0000 would cut the C string short */
                return parse_fail(ps, "bad \\u escape");
            p += 4;
            if (v < 0x80) {
                out[n++] = (char)v;
            } else if (v < 0x800) {
                out[n++] = (char)(0xC0 | v >> 6);
                out[n++] = (char)(0x80 | (v & 0x3F));
            } else {   /* surrogates pass through as their own code units */
                out[n++] = (char)(0xE0 | v >> 12);
                out[n++] = (char)(0x80 | ((v >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (v & 0x3F));
            }
            break;
        }
        default:
            return parse_fail(ps, "bad escape in a string");
        }
    }
    out[n++] = '\0';
    ps->doc->strings_used += n;
    ps->p = close + 1;
    return off;
}

static int new_node(struct json_parser *ps, enum json_type type)
{
    if (ps->doc->count >= JSON_MAX_NODES)
        return parse_fail(ps, "too many values");
    int i = ps->doc->count++;
    ps->doc->nodes[i] = (struct json_node){ .type = type, .first_child = -1, .next = -1 };
    return i;
}

/* Keys and strings are stored as offsets until the parse ends (cast into
 * the pointer fields), then fixed up: the pool may be reallocated. */
#define OFFSET_TAG(off) ((const char *)(uintptr_t)((off) + 1))

static bool literal(struct json_parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

static int parse_value(struct json_parser *ps, int depth);

static int parse_container(struct json_parser *ps, int depth, bool object)
{
    int self = new_node(ps, object ? JSON_OBJECT : JSON_ARRAY);
    if (self < 0)
        return -1;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
        ps->p++;
        return self;
    }
    int prev = -1;
    for (;;) {
        long key = -1;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return parse_fail(ps, "expected a member name");
            key = parse_string(ps);
            if (key < 0)
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return parse_fail(ps, "expected ':'");
            ps->p++;
        }
        int child = parse_value(ps, depth + 1);
        if (child < 0)
            return -1;
        if (object)
            ps->doc->nodes[child].key = OFFSET_TAG(key);
        if (prev < 0)
            ps->doc->nodes[self].first_child = child;
        else
            ps->doc->nodes[prev].next = child;
        prev = child;
        skip_ws(ps);
        if (ps->p >= ps->end)
            return parse_fail(ps, "unexpected end of input");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == (object ? '}' : ']')) {
            ps->p++;
            return self;
        }
        return parse_fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_value(struct json_parser *ps, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return parse_fail(ps, "nested too deeply");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return parse_fail(ps, "unexpected end of input");
    char c = *ps->p;
    if (c == '{' || c == '[')
        return parse_container(ps, depth, c == '{');
    if (c == '"') {
        int self = new_node(ps, JSON_STRING);
        if (self < 0)
            return -1;
        long off = parse_string(ps);
        if (off < 0)
            return -1;
        ps->doc->nodes[self].str = OFFSET_TAG(off);
        return self;
    }
    if (literal(ps, "true") || literal(ps, "false")) {
        int self = new_node(ps, JSON_BOOL);
        if (self >= 0)
            ps->doc->nodes[self].boolean = ps->p[-1] == 'e' && ps->p[-2] == 'u';
        return self;
    }
    if (literal(ps, "null"))
        return new_node(ps, JSON_NULL);
    if (c == '-' || (c >= '0' && c <= '9')) {
        char num[64];
        size_t n = 0;
        while (ps->p < ps->end && n + 1 < sizeof(num) && strchr("+-0123456789.eE", *ps->p))
            num[n++] = *ps->p++;
        num[n] = '\0';
        char *end;
        double v = strtod(num, &end);
        if (*end || n == 0)
            return parse_fail(ps, "bad number");
        int self = new_node(ps, JSON_NUMBER);
        if (self >= 0)
            ps->doc->nodes[self].number = v;
        return self;
    }
    return parse_fail(ps, "unexpected character");
}

int json_parse(const char *text, size_t len, struct json_doc *doc, char *err, size_t errlen)
{
    doc->count = 0;
    doc->strings = NULL;
    doc->strings_used = doc->strings_cap = 0;
    struct json_parser ps = { text, text + len, doc, err, errlen, false };
    int root = parse_value(&ps, 0);
    if (root >= 0) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            root = parse_fail(&ps, "trailing characters after the value");
    }
    if (root < 0) {
        doc->count = 0;
        return -1;
    }
    for (int i = 0; i < doc->count; i++) {   /* offsets to pointers, now the pool is final */
        struct json_node *nd = &doc->nodes[i];
        if (nd->key)
            nd->key = doc->strings + ((uintptr_t)nd->key - 1);
        if (nd->str)
            nd->str = doc->strings + ((uintptr_t)nd->str - 1);
    }
    return root;
}

void json_doc_free(struct json_doc *doc)
{
    free(doc->strings);
    doc->strings = NULL;
    doc->strings_used = doc->strings_cap = 0;
    doc->count = 0;
}

const struct json_node *json_get(const struct json_doc *doc, int obj, const char *key)
{
    if (obj < 0 || obj >= doc->count || doc->nodes[obj].type != JSON_OBJECT)
        return NULL;
    for (int i = doc->nodes[obj].first_child; i >= 0; i = doc->nodes[i].next)
        if (doc->nodes[i].key && strcmp(doc->nodes[i].key, key) == 0)
            return &doc->nodes[i];
    return NULL;
}

/* ---- the protocol ---- */

struct qmp {
    struct machine *machine;
    struct chardev *cd;
    struct monitor_shared *shared;
    struct monitor *hmp;        /* runs human-monitor-command, output captured */
    bool negotiated;            /* qmp_capabilities seen */
    bool was_stopped;           /* as the client was last told (STOP/RESUME events) */
    unsigned stop_changes_seen; /* shared->stop_changes when last looked at */
    char msg[QMP_MESSAGE_MAX];
    size_t len;
    int depth;                  /* { and [ open outside strings */
    bool in_string, escaped;
    bool overlong;              /* discarding until the message ends */
    struct json_doc doc;        /* large: kept here, not on the stack */
};

/* A growing reply line. */
struct reply {
    char *text;
    size_t len, cap;
};

static void reply_add(struct reply *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = (r->len + n + 1) * 2 + 128;
        char *grown = realloc(r->text, cap);
        if (!grown)
            return;
        r->text = grown;
        r->cap = cap;
    }
    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->text[r->len] = '\0';
}

static void reply_str(struct reply *r, const char *s)
{
    reply_add(r, s, strlen(s));
}

static void reply_json_string(struct reply *r, const char *s)
{
    reply_add(r, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            reply_add(r, esc, 2);
        } else if (*p == '\n') {
            reply_add(r, "\\n", 2);
        } else if (*p == '\r') {
            reply_add(r, "\\r", 2);
        } else if (*p == '\t') {
            reply_add(r, "\\t", 2);
        } else if (*p < 0x20 || *p == 0x7F) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            reply_add(r, esc, 6);
        } else {
            reply_add(r, (const char *)p, 1);
        }
    }
    reply_add(r, "\"", 1);
}

/* A JSON value from the request copied back (the id). */
static void reply_json_value(struct reply *r, const struct json_doc *doc, int i)
{
    const struct json_node *nd = &doc->nodes[i];
    char num[64];
    switch (nd->type) {
    case JSON_NULL: reply_str(r, "null"); break;
    case JSON_BOOL: reply_str(r, nd->boolean ? "true" : "false"); break;
    case JSON_NUMBER: snprintf(num, sizeof(num), "%.17g", nd->number); reply_str(r, num); break;
    case JSON_STRING: reply_json_string(r, nd->str); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        reply_str(r, nd->type == JSON_ARRAY ? "[" : "{");
        for (int c = nd->first_child; c >= 0; c = doc->nodes[c].next) {
            if (c != nd->first_child)
                reply_str(r, ", ");
            if (nd->type == JSON_OBJECT) {
                reply_json_string(r, doc->nodes[c].key);
                reply_str(r, ": ");
            }
            reply_json_value(r, doc, c);
        }
        reply_str(r, nd->type == JSON_ARRAY ? "]" : "}");
        break;
    }
}

static void send_reply(struct qmp *q, struct reply *r, int id)
{
    if (id >= 0) {
        r->len--;   /* reopen the closing brace */
        reply_str(r, ", \"id\": ");
        reply_json_value(r, &q->doc, id);
        reply_str(r, "}");
    }
    reply_str(r, "\r\n");
    if (r->text)
        chardev_write(q->cd, r->text, r->len);
    free(r->text);
}

static void send_error(struct qmp *q, const char *cls, const char *desc, int id)
{
    struct reply r = { 0 };
    reply_str(&r, "{\"error\": {\"class\": ");
    reply_json_string(&r, cls);
    reply_str(&r, ", \"desc\": ");
    reply_json_string(&r, desc);
    reply_str(&r, "}}");
    send_reply(q, &r, id);
}

static void send_return(struct qmp *q, const char *json_value, int id)
{
    struct reply r = { 0 };
    reply_str(&r, "{\"return\": ");
    reply_str(&r, json_value);
    reply_str(&r, "}");
    send_reply(q, &r, id);
}

/* {"event": NAME, "data": ..., "timestamp": ...} to a negotiated client. */
static void send_event(struct qmp *q, const char *name, const char *data_json)
{
    if (!q->negotiated)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char text[256];
    snprintf(text, sizeof(text), "{\"event\": \"%s\", %s%s%s\"timestamp\": {\"seconds\": %lld, "
             "\"microseconds\": %ld}}\r\n", name, data_json ? "\"data\": " : "",
             data_json ? data_json : "", data_json ? ", " : "", (long long)ts.tv_sec, ts.tv_nsec / 1000);
    chardev_write(q->cd, text, strlen(text));
}

/* stop and cont from either monitor: one event per transition, even a
 * stop and cont that both happened since the last look. */
static void check_run_state(struct qmp *q)
{
    for (; q->stop_changes_seen != q->shared->stop_changes; q->stop_changes_seen++) {
        q->was_stopped = !q->was_stopped;
        send_event(q, q->was_stopped ? "STOP" : "RESUME", NULL);
    }
}

static const char *const qmp_commands[] = {
    "qmp_capabilities", "query-status", "query-commands", "human-monitor-command",
    "screendump", "system_reset", "stop", "cont", "quit",
};

static const char *string_arg(const struct json_doc *doc, const struct json_node *args, const char *key)
{
    const struct json_node *a = args ? json_get(doc, (int)(args - doc->nodes), key) : NULL;
    return a && a->type == JSON_STRING ? a->str : NULL;
}

static void execute(struct qmp *q, const char *name, const struct json_node *args, int id)
{
    struct machine *m = q->machine;
    if (strcmp(name, "qmp_capabilities") == 0) {
        q->negotiated = true;
        send_return(q, "{}", id);
        return;
    }
    if (!q->negotiated) {
        send_error(q, "CommandNotFound",
                   "Expecting capabilities negotiation with 'qmp_capabilities'", id);
        return;
    }
    if (args && args->type != JSON_OBJECT) {
        send_error(q, "GenericError", "'arguments' must be an object", id);
        return;
    }
    if (strcmp(name, "query-status") == 0) {
        bool paused = q->shared->stopped;
        send_return(q, paused ? "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}"
                              : "{\"status\": \"running\", \"singlestep\": false, \"running\": true}", id);
    } else if (strcmp(name, "query-commands") == 0) {
        struct reply r = { 0 };
        reply_str(&r, "[");
        for (size_t i = 0; i < sizeof(qmp_commands) / sizeof(qmp_commands[0]); i++) {
            reply_str(&r, i ? ", {\"name\": " : "{\"name\": ");
            reply_json_string(&r, qmp_commands[i]);
            reply_str(&r, "}");
        }
        reply_str(&r, "]");
        send_return(q, r.text ? r.text : "[]", id);
        free(r.text);
    } else if (strcmp(name, "human-monitor-command") == 0) {
        const char *line = string_arg(&q->doc, args, "command-line");
        if (!line) {
            send_error(q, "GenericError", "Parameter 'command-line' is missing", id);
            return;
        }
        char *text = monitor_execute_capture(q->hmp, line);
        struct reply r = { 0 };
        reply_json_string(&r, text ? text : "");
        send_return(q, r.text ? r.text : "\"\"", id);
        free(r.text);
        free(text);
    } else if (strcmp(name, "screendump") == 0) {
        const char *file = string_arg(&q->doc, args, "filename");
        char err[256];
        if (!file)
            send_error(q, "GenericError", "Parameter 'filename' is missing", id);
        else if (screendump_png(&m->display, file, err, sizeof(err)) != 0)
            send_error(q, "GenericError", err, id);
        else
            send_return(q, "{}", id);
    } else if (strcmp(name, "system_reset") == 0) {
        monitor_system_reset(q->shared, m);
        send_return(q, "{}", id);
        send_event(q, "RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
    } else if (strcmp(name, "stop") == 0) {
        monitor_set_stopped(q->shared, true);
        send_return(q, "{}", id);
    } else if (strcmp(name, "cont") == 0) {
        monitor_set_stopped(q->shared, false);
        send_return(q, "{}", id);
    } else if (strcmp(name, "quit") == 0) {
        send_return(q, "{}", id);
        send_event(q, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
        machine_request_exit(m, 0);
    } else {
        char desc[160];
        snprintf(desc, sizeof(desc), "The command %.64s has not been found", name);
        send_error(q, "CommandNotFound", desc, id);
    }
}

static void handle_message(struct qmp *q, const char *text, size_t len)
{
    char err[128];
    json_doc_free(&q->doc);
    int root = json_parse(text, len, &q->doc, err, sizeof(err));
    if (root < 0) {
        send_error(q, "GenericError", err, -1);
        return;
    }
    if (q->doc.nodes[root].type != JSON_OBJECT) {
        send_error(q, "GenericError", "QMP input must be a JSON object", -1);
        return;
    }
    const struct json_node *idn = json_get(&q->doc, root, "id");
    int id = idn ? (int)(idn - q->doc.nodes) : -1;
    const struct json_node *exe = json_get(&q->doc, root, "execute");
    if (!exe || exe->type != JSON_STRING) {
        send_error(q, "GenericError", "QMP input lacks member 'execute' (a string)", id);
        return;
    }
    execute(q, exe->str, json_get(&q->doc, root, "arguments"), id);
    check_run_state(q);
}

static void reset_framing(struct qmp *q)
{
    q->len = 0;
    q->depth = 0;
    q->in_string = q->escaped = false;
}

/* One more byte of the message being framed: tracks strings, escapes and
 * nesting; true when it ends the message (its outermost bracket closes, or
 * a newline outside any: a bare word or number, not an object). */
static bool frame_byte(struct qmp *q, char c)
{
    if (q->in_string) {
        if (q->escaped) q->escaped = false;
        else if (c == '\\') q->escaped = true;
        else if (c == '"') q->in_string = false;
    } else if (c == '"') {
        q->in_string = true;
    } else if (c == '{' || c == '[') {
        q->depth++;
    } else if (c == '}' || c == ']') {
        return --q->depth <= 0;
    } else if (c == '\n' && q->depth <= 0) {
        return true;
    }
    return false;
}

/* Framing (frame_byte): a message ends where its outermost brace or
 * bracket closes; text outside any (a stray word) ends at a newline. */
void qmp_feed(struct qmp *q, const char *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = bytes[i];
        if (q->overlong) {
            /* skip to the end of the oversized message, tracking its nesting */
            if (frame_byte(q, c)) {
                q->overlong = false;
                reset_framing(q);
            }
            continue;
        }
        if (q->len == 0 && q->depth == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
            continue;
        if (q->len + 1 >= sizeof(q->msg)) {
            send_error(q, "GenericError", "QMP message too long: discarded", -1);
            q->overlong = true;
            size_t keep_depth = (size_t)q->depth;
            bool keep_str = q->in_string, keep_esc = q->escaped;
            reset_framing(q);
            q->depth = (int)keep_depth;
            q->in_string = keep_str;
            q->escaped = keep_esc;
            i--;   /* look at this byte again as part of the skipped message */
            continue;
        }
        q->msg[q->len++] = c;
        if (frame_byte(q, c)) {
            handle_message(q, q->msg, q->len);
            reset_framing(q);
        }
    }
}

void qmp_poll(struct qmp *q)
{
    char buf[512];
    size_t n = 0;
    int c;
    check_run_state(q);   /* the human monitor may have stopped or resumed the guest */
    while ((c = chardev_poll(q->cd)) >= 0) {
        buf[n++] = (char)c;
        if (n == sizeof(buf)) {
            qmp_feed(q, buf, n);
            n = 0;
        }
    }
    if (n)
        qmp_feed(q, buf, n);
}

void qmp_greet(void *opaque)
{
    struct qmp *q = opaque;
    reset_framing(q);
    q->overlong = false;
    q->negotiated = false;
    char greeting[256];
    snprintf(greeting, sizeof(greeting),
             "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 0}, "
             "\"package\": \"fox86 %s\"}, \"capabilities\": []}}\r\n", FOX86_VERSION);
    chardev_write(q->cd, greeting, strlen(greeting));
}

void qmp_client_gone(void *opaque)
{
    struct qmp *q = opaque;
    reset_framing(q);
    q->overlong = false;
    q->negotiated = false;
}

struct qmp *qmp_create(struct machine *m, struct chardev *cd, struct monitor_shared *shared)
{
    struct qmp *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->machine = m;
    q->cd = cd;
    q->shared = shared;
    q->was_stopped = shared->stopped;
    q->stop_changes_seen = shared->stop_changes;
    q->hmp = monitor_create(m, NULL);
    if (!q->hmp) {
        free(q);
        return NULL;
    }
    monitor_set_shared(q->hmp, shared);
    if (cd)
        qmp_greet(q);
    return q;
}

void qmp_free(struct qmp *q)
{
    if (!q)
        return;
    json_doc_free(&q->doc);
    monitor_free(q->hmp);
    free(q);
}
