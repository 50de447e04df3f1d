/* frontends/qmp.h: the JSON monitor (-qmp), modelled on QEMU's QMP, for
 * scripts and tests.
 *
 * On connect the client gets the greeting
 *   {"QMP": {"version": {...}, "capabilities": []}}
 * and must send {"execute": "qmp_capabilities"} before anything else. Then
 * each {"execute": NAME, "arguments": {...}, "id": ANY} gets one reply line,
 * {"return": ...} or {"error": {"class": CLASS, "desc": TEXT}}, with the id
 * echoed. Commands: qmp_capabilities, query-status, query-commands,
 * human-monitor-command {"command-line": "info pci"} (returns the human
 * monitor's text), screendump {"filename": F}, system_reset, stop, cont,
 * quit. Events, as QEMU's, to a negotiated client: STOP and RESUME (from
 * either monitor), RESET (system_reset), SHUTDOWN (quit). Input that is not a JSON object with a string "execute" (malformed
 * JSON, a truncated or overlong message, a number...) gets a GenericError
 * reply and is discarded; nothing the client sends can crash fox86.
 * Messages may span lines or share one: an object ends at its closing
 * brace.
 *
 * The JSON reader handles what QMP needs: objects, arrays, strings (every
 * escape; \u outside ASCII becomes UTF-8), numbers, true, false, null,
 * nesting up to JSON_MAX_DEPTH, at most JSON_MAX_NODES values per message.
 *
 * Usage:
 *   struct qmp *q = qmp_create(m, chardev, &shared);   // shared: monitor.h
 *   ... in the poll hook: qmp_poll(q);
 *   qmp_free(q);
 */
#ifndef FOX86_QMP_H
#define FOX86_QMP_H

#include <stdbool.h>
#include <stddef.h>

struct machine;
struct chardev;
struct monitor_shared;
struct qmp;

#define QMP_MESSAGE_MAX (64 * 1024)
#define JSON_MAX_DEPTH 32
#define JSON_MAX_NODES 512

struct qmp *qmp_create(struct machine *m, struct chardev *cd, struct monitor_shared *shared);
void qmp_poll(struct qmp *q);
/* Feed bytes as if read from the backend (qmp_poll does this; tests too). */
void qmp_feed(struct qmp *q, const char *bytes, size_t len);
void qmp_free(struct qmp *q);
/* Socket backends: greet a new client; forget a departed one's state. */
void qmp_greet(void *q);
void qmp_client_gone(void *q);

/* The JSON reader, for the unit tests. */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_node {
    enum json_type type;
    const char *key;            /* member name inside an object, else NULL */
    const char *str;            /* JSON_STRING: NUL-terminated, unescaped */
    double number;
    bool boolean;
    int first_child;            /* arrays and objects: index of the first member, -1 if none */
    int next;                   /* next sibling, -1 at the end */
};

struct json_doc {
    struct json_node nodes[JSON_MAX_NODES];
    int count;
    char *strings;              /* unescaped strings and keys (owned) */
    size_t strings_used, strings_cap;
};

/* Parses exactly one value (surrounding whitespace allowed). Returns the
 * root's index (0), or -1 with one line in err. doc->strings must be freed
 * with json_doc_free. */
int json_parse(const char *text, size_t len, struct json_doc *doc, char *err, size_t errlen);
void json_doc_free(struct json_doc *doc);
/* The member called key of object node obj, or NULL. */
const struct json_node *json_get(const struct json_doc *doc, int obj, const char *key);

#endif
