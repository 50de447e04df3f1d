/* tests/fuzz/replay.c: runs saved inputs through a fuzz target without
 * libFuzzer, so crashers once found stay regression tests.
 *
 * Link it with one target (fuzz_decoder.c or fuzz_interp.c) and the sources
 * that target needs, with any compiler (sanitizers recommended); each
 * argument is a file or a directory, whose regular files are run in name
 * order (not recursively). Every input goes through LLVMFuzzerTestOneInput
 * once; a target reports a failure by crashing (abort, sanitizer), so
 * reaching the end means all passed.
 *
 * Exit status: 0 all inputs ran, 1 an argument or file could not be read,
 * 2 usage. Example (from the source root):
 *   cc -g -fsanitize=address,undefined -I. -Icore -Immu tests/fuzz/replay.c \
 *     tests/fuzz/fuzz_interp.c <core and mmu sources but core/machine.c> -lm -o replay_interp
 *   ./replay_interp tests/fuzz/regress/interp
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not fuzz inputs (libFuzzer's default max_len is far below). */
#define REPLAY_MAX_INPUT (16u << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX_INPUT);
    size_t len = buf ? fread(buf, 1, REPLAY_MAX_INPUT, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* an exact-size copy, so ASan catches a target reading past the input */
    uint8_t *input = malloc(len ? len : 1);
    if (!input) {
        free(buf);
        return -1;
    }
    memcpy(input, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(input, len);
    free(input);
    printf("ok %s (%zu bytes)\n", path, len);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir_path)
{
    DIR *dir = opendir(dir_path);
    if (!dir) {
        perror(dir_path);
        return -1;
    }
    char **paths = NULL;
    size_t npaths = 0;
    int status = 0;
    for (struct dirent *de; (de = readdir(dir)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        size_t n = strlen(dir_path) + strlen(de->d_name) + 2;
        char *path = malloc(n);
        char **grown = realloc(paths, (npaths + 1) * sizeof *paths);
        if (!path || !grown) {
            free(path);
            status = -1;
            break;
        }
        paths = grown;
        snprintf(path, n, "%s/%s", dir_path, de->d_name);
        paths[npaths++] = path;
    }
    closedir(dir);
    if (npaths > 1)
        qsort(paths, npaths, sizeof *paths, compare_names);
    for (size_t i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0 && S_ISREG(st.st_mode) && replay_file(paths[i]) != 0)
            status = -1;
        free(paths[i]);
    }
    free(paths);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            status = 1;
        } else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) != 0 : replay_file(argv[i]) != 0) {
            status = 1;
        }
    }
    return status;
}
