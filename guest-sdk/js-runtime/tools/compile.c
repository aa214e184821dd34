/*
 * Build-time helper: compile lib.js to QuickJS bytecode.
 *
 * Built from the very same QuickJS-ng sources and flags as the runner, as a
 * WASI command, and run under node's WASI by build.sh:
 *   stdin  = JavaScript source
 *   stdout = bytecode (JS_WriteObject of the compiled script)
 * Bytecode is only guaranteed to load into the same QuickJS build, which is
 * why this is not a separate tool with its own QuickJS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>
#include "quickjs.h"

#define LIB_FILENAME "notary:lib.js"

/* QuickJS is compiled with -Dgettimeofday=notary_gettimeofday
   -Dclock_gettime=notary_clock_gettime (see build.sh / runner.c). The
   compiler never looks at the time: constant zero. */
#include <sys/time.h>
#include <time.h>
int notary_gettimeofday(struct timeval *restrict tv, void *restrict tz);
int notary_gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    tv->tv_sec = 0;
    tv->tv_usec = 0;
    return 0;
}
/* error-message hook of patches/quickjs-notary.c: no program source here */
const char *notary_script_source(JSAtom *filename, size_t *plen);
const char *notary_script_source(JSAtom *filename, size_t *plen)
{
    *filename = 0;
    *plen = 0;
    return 0;
}
int notary_clock_gettime(clockid_t clk, struct timespec *ts);
int notary_clock_gettime(clockid_t clk, struct timespec *ts)
{
    ts->tv_sec = 0;
    ts->tv_nsec = 0;
    return 0;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        __wasi_ciovec_t iov = { p, n };
        __wasi_size_t w = 0;
        if (__wasi_fd_write(fd, &iov, 1, &w) != 0 || w == 0)
            exit(3);
        p += w;
        n -= w;
    }
}

static void die(const char *msg)
{
    write_all(2, (const uint8_t *)msg, strlen(msg));
    write_all(2, (const uint8_t *)"\n", 1);
    exit(2);
}

int main(void)
{
    size_t cap = 1 << 16, len = 0;
    char *src = malloc(cap + 1);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            src = realloc(src, cap + 1);
        }
        if (!src)
            die("out of memory");
        __wasi_iovec_t iov = { (uint8_t *)src + len, cap - len };
        __wasi_size_t got = 0;
        if (__wasi_fd_read(0, &iov, 1, &got) != 0 || got == 0)
            break;
        len += got;
    }
    src[len] = '\0';

    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    JSValue fn = JS_Eval(ctx, src, len, LIB_FILENAME, JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(fn)) {
        JSValue e = JS_GetException(ctx);
        const char *s = JS_ToCString(ctx, e);
        write_all(2, (const uint8_t *)"compile error: ", 15);
        die(s ? s : "?");
    }
    size_t out_len;
    uint8_t *out = JS_WriteObject(ctx, &out_len, fn, JS_WRITE_OBJ_BYTECODE | JS_WRITE_OBJ_STRIP_SOURCE | JS_WRITE_OBJ_STRIP_DEBUG);
    if (!out)
        die("JS_WriteObject failed");
    write_all(1, out, out_len);
    return 0;
}
