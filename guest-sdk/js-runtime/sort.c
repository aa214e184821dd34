/*
 * sort.c: Array.prototype.sort / toSorted with a comparison function, the
 * way V8 (node) does it: TimSort exactly as in V8's array-sort.tq (itself a
 * port of CPython's listsort).
 *
 * Why: with a consistent comparison function every stable sort gives the
 * same result, but ordinary programs often pass inconsistent ones --
 * `(a, b) => a > b` (never negative), `(a, b) => a.k < b.k ? -1 : 1` (never
 * zero) -- and then the result depends on the exact algorithm: which pairs
 * are compared, in which argument order. QuickJS's sort gives different
 * orders than node for those. Without a comparison function the order is
 * fully determined, so QuickJS's own (faster) sort is kept for that case.
 *
 * Semantics as in V8: the elements are copied to a work array (holes are
 * skipped, undefined values are set aside and go last, the comparator is
 * never called with undefined), the work array is sorted, then written
 * back (followed by the undefineds and then holes). If the comparator
 * throws, the array is left unchanged. The comparator's result goes
 * through ToNumber; NaN counts as 0.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "quickjs.h"

#define MIN_GALLOP 7
#define MAX_RUNS 85

typedef struct {
    JSContext *ctx;
    JSValueConst fn;
    JSValue *a;   /* work array (borrowed references) */
    JSValue *tmp; /* merge buffer */
    size_t tmp_cap;
    int min_gallop;
    int64_t run_base[MAX_RUNS];
    int64_t run_len[MAX_RUNS];
    int nruns;
    bool failed; /* an exception is pending */
} SortState;

/* comparefn(x, y) as a number; NaN -> 0. Sets s->failed on exception. */
static double compare(SortState *s, JSValueConst x, JSValueConst y)
{
    if (s->failed)
        return 0;
    JSValueConst args[2] = { x, y };
    JSValue r = JS_Call(s->ctx, s->fn, JS_UNDEFINED, 2, args);
    if (JS_IsException(r)) {
        s->failed = true;
        return 0;
    }
    double d;
    if (JS_IsNumber(r)) {
        JS_ToFloat64(s->ctx, &d, r);
    } else {
        int rc = JS_ToFloat64(s->ctx, &d, r);
        JS_FreeValue(s->ctx, r);
        if (rc < 0) {
            s->failed = true;
            return 0;
        }
    }
    return isnan(d) ? 0 : d;
}

static int64_t min_run_length(int64_t n)
{
    int64_t r = 0;
    while (n >= 64) {
        r |= n & 1;
        n >>= 1;
    }
    return n + r;
}

static void binary_insertion_sort(SortState *s, int64_t low, int64_t start_arg, int64_t high)
{
    JSValue *a = s->a;
    int64_t start = low == start_arg ? start_arg + 1 : start_arg;
    for (; start < high && !s->failed; ++start) {
        int64_t left = low, right = start;
        JSValue pivot = a[start];
        while (left < right) {
            int64_t mid = left + ((right - left) >> 1);
            double order = compare(s, pivot, a[mid]);
            if (s->failed)
                return;
            if (order < 0)
                right = mid;
            else
                left = mid + 1;
        }
        for (int64_t p = start; p > left; --p)
            a[p] = a[p - 1];
        a[left] = pivot;
    }
}

static int64_t count_and_make_run(SortState *s, int64_t low_arg, int64_t high)
{
    JSValue *a = s->a;
    int64_t low = low_arg + 1;
    if (low == high)
        return 1;
    int64_t run_length = 2;
    double order = compare(s, a[low], a[low - 1]);
    bool descending = order < 0;
    JSValue previous = a[low];
    for (int64_t idx = low + 1; idx < high && !s->failed; ++idx) {
        JSValue current = a[idx];
        order = compare(s, current, previous);
        if (s->failed)
            break;
        if (descending) {
            if (order >= 0)
                break;
        } else {
            if (order < 0)
                break;
        }
        previous = current;
        ++run_length;
    }
    if (descending) {
        for (int64_t i = low_arg, j = low_arg + run_length - 1; i < j; i++, j--) {
            JSValue t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
    return run_length;
}

/* Leftmost position k in arr[base, base+length) with arr[k-1] < key <= arr[k]. */
static int64_t gallop_left(SortState *s, JSValue *arr, JSValueConst key, int64_t base, int64_t length, int64_t hint)
{
    int64_t last_ofs = 0, offset = 1;
    double order = compare(s, arr[base + hint], key);
    if (order < 0) {
        int64_t max_ofs = length - hint;
        while (offset < max_ofs) {
            order = compare(s, arr[base + hint + offset], key);
            if (order >= 0)
                break;
            last_ofs = offset;
            offset = (offset << 1) + 1;
            if (offset <= 0)
                offset = max_ofs;
        }
        if (offset > max_ofs)
            offset = max_ofs;
        last_ofs += hint;
        offset += hint;
    } else {
        int64_t max_ofs = hint + 1;
        while (offset < max_ofs) {
            order = compare(s, arr[base + hint - offset], key);
            if (order < 0)
                break;
            last_ofs = offset;
            offset = (offset << 1) + 1;
            if (offset <= 0)
                offset = max_ofs;
        }
        if (offset > max_ofs)
            offset = max_ofs;
        int64_t tmp = last_ofs;
        last_ofs = hint - offset;
        offset = hint - tmp;
    }
    last_ofs++;
    while (last_ofs < offset) {
        int64_t m = last_ofs + ((offset - last_ofs) >> 1);
        order = compare(s, arr[base + m], key);
        if (order < 0)
            last_ofs = m + 1;
        else
            offset = m;
    }
    return offset;
}

/* Rightmost position k in arr[base, base+length) with arr[k-1] <= key < arr[k]. */
static int64_t gallop_right(SortState *s, JSValue *arr, JSValueConst key, int64_t base, int64_t length, int64_t hint)
{
    int64_t last_ofs = 0, offset = 1;
    double order = compare(s, key, arr[base + hint]);
    if (order < 0) {
        int64_t max_ofs = hint + 1;
        while (offset < max_ofs) {
            order = compare(s, key, arr[base + hint - offset]);
            if (order >= 0)
                break;
            last_ofs = offset;
            offset = (offset << 1) + 1;
            if (offset <= 0)
                offset = max_ofs;
        }
        if (offset > max_ofs)
            offset = max_ofs;
        int64_t tmp = last_ofs;
        last_ofs = hint - offset;
        offset = hint - tmp;
    } else {
        int64_t max_ofs = length - hint;
        while (offset < max_ofs) {
            order = compare(s, key, arr[base + hint + offset]);
            if (order < 0)
                break;
            last_ofs = offset;
            offset = (offset << 1) + 1;
            if (offset <= 0)
                offset = max_ofs;
        }
        if (offset > max_ofs)
            offset = max_ofs;
        last_ofs += hint;
        offset += hint;
    }
    last_ofs++;
    while (last_ofs < offset) {
        int64_t m = last_ofs + ((offset - last_ofs) >> 1);
        order = compare(s, key, arr[base + m]);
        if (order < 0)
            offset = m;
        else
            last_ofs = m + 1;
    }
    return offset;
}

static bool ensure_tmp(SortState *s, int64_t n)
{
    if ((size_t)n <= s->tmp_cap)
        return true;
    JSValue *t = realloc(s->tmp, sizeof(JSValue) * (size_t)n);
    if (!t) {
        JS_ThrowOutOfMemory(s->ctx);
        s->failed = true;
        return false;
    }
    s->tmp = t;
    s->tmp_cap = (size_t)n;
    return true;
}

static void merge_low(SortState *s, int64_t base_a, int64_t length_a, int64_t base_b, int64_t length_b)
{
    JSValue *a = s->a;
    if (!ensure_tmp(s, length_a))
        return;
    JSValue *t = s->tmp;
    memcpy(t, a + base_a, sizeof(JSValue) * (size_t)length_a);
    int64_t dest = base_a, cursor_t = 0, cursor_b = base_b;
    a[dest++] = a[cursor_b++];
    if (--length_b == 0)
        goto succeed;
    if (length_a == 1)
        goto copy_b;
    int min_gallop = s->min_gallop;
    for (;;) {
        int64_t wins_a = 0, wins_b = 0;
        for (;;) {
            double order = compare(s, a[cursor_b], t[cursor_t]);
            if (s->failed)
                return;
            if (order < 0) {
                a[dest++] = a[cursor_b++];
                ++wins_b;
                --length_b;
                wins_a = 0;
                if (length_b == 0)
                    goto succeed;
                if (wins_b >= min_gallop)
                    break;
            } else {
                a[dest++] = t[cursor_t++];
                ++wins_a;
                --length_a;
                wins_b = 0;
                if (length_a == 1)
                    goto copy_b;
                if (wins_a >= min_gallop)
                    break;
            }
        }
        ++min_gallop;
        bool first = true;
        while (wins_a >= MIN_GALLOP || wins_b >= MIN_GALLOP || first) {
            first = false;
            min_gallop = min_gallop > 1 ? min_gallop - 1 : 1;
            s->min_gallop = min_gallop;
            wins_a = gallop_right(s, t, a[cursor_b], cursor_t, length_a, 0);
            if (s->failed)
                return;
            if (wins_a > 0) {
                memcpy(a + dest, t + cursor_t, sizeof(JSValue) * (size_t)wins_a);
                dest += wins_a;
                cursor_t += wins_a;
                length_a -= wins_a;
                if (length_a == 1)
                    goto copy_b;
                if (length_a == 0)
                    goto succeed;
            }
            a[dest++] = a[cursor_b++];
            if (--length_b == 0)
                goto succeed;
            wins_b = gallop_left(s, a, t[cursor_t], cursor_b, length_b, 0);
            if (s->failed)
                return;
            if (wins_b > 0) {
                memmove(a + dest, a + cursor_b, sizeof(JSValue) * (size_t)wins_b);
                dest += wins_b;
                cursor_b += wins_b;
                length_b -= wins_b;
                if (length_b == 0)
                    goto succeed;
            }
            a[dest++] = t[cursor_t++];
            if (--length_a == 1)
                goto copy_b;
        }
        ++min_gallop;
        s->min_gallop = min_gallop;
    }
succeed:
    if (length_a > 0)
        memcpy(a + dest, t + cursor_t, sizeof(JSValue) * (size_t)length_a);
    return;
copy_b:
    /* the last element of run A belongs at the end of the merge */
    memmove(a + dest, a + cursor_b, sizeof(JSValue) * (size_t)length_b);
    a[dest + length_b] = t[cursor_t];
}

static void merge_high(SortState *s, int64_t base_a, int64_t length_a, int64_t base_b, int64_t length_b)
{
    JSValue *a = s->a;
    if (!ensure_tmp(s, length_b))
        return;
    JSValue *t = s->tmp;
    memcpy(t, a + base_b, sizeof(JSValue) * (size_t)length_b);
    int64_t dest = base_b + length_b - 1, cursor_t = length_b - 1, cursor_a = base_a + length_a - 1;
    a[dest--] = a[cursor_a--];
    if (--length_a == 0)
        goto succeed;
    if (length_b == 1)
        goto copy_a;
    int min_gallop = s->min_gallop;
    for (;;) {
        int64_t wins_a = 0, wins_b = 0;
        for (;;) {
            double order = compare(s, t[cursor_t], a[cursor_a]);
            if (s->failed)
                return;
            if (order < 0) {
                a[dest--] = a[cursor_a--];
                ++wins_a;
                --length_a;
                wins_b = 0;
                if (length_a == 0)
                    goto succeed;
                if (wins_a >= min_gallop)
                    break;
            } else {
                a[dest--] = t[cursor_t--];
                ++wins_b;
                --length_b;
                wins_a = 0;
                if (length_b == 1)
                    goto copy_a;
                if (wins_b >= min_gallop)
                    break;
            }
        }
        ++min_gallop;
        bool first = true;
        while (wins_a >= MIN_GALLOP || wins_b >= MIN_GALLOP || first) {
            first = false;
            min_gallop = min_gallop > 1 ? min_gallop - 1 : 1;
            s->min_gallop = min_gallop;
            int64_t k = gallop_right(s, a, t[cursor_t], base_a, length_a, length_a - 1);
            if (s->failed)
                return;
            wins_a = length_a - k;
            if (wins_a > 0) {
                dest -= wins_a;
                cursor_a -= wins_a;
                memmove(a + dest + 1, a + cursor_a + 1, sizeof(JSValue) * (size_t)wins_a);
                length_a -= wins_a;
                if (length_a == 0)
                    goto succeed;
            }
            a[dest--] = t[cursor_t--];
            if (--length_b == 1)
                goto copy_a;
            k = gallop_left(s, t, a[cursor_a], 0, length_b, length_b - 1);
            if (s->failed)
                return;
            wins_b = length_b - k;
            if (wins_b > 0) {
                dest -= wins_b;
                cursor_t -= wins_b;
                memcpy(a + dest + 1, t + cursor_t + 1, sizeof(JSValue) * (size_t)wins_b);
                length_b -= wins_b;
                if (length_b == 1)
                    goto copy_a;
                if (length_b == 0)
                    goto succeed;
            }
            a[dest--] = a[cursor_a--];
            if (--length_a == 0)
                goto succeed;
        }
        ++min_gallop;
        s->min_gallop = min_gallop;
    }
succeed:
    if (length_b > 0)
        memcpy(a + dest - (length_b - 1), t, sizeof(JSValue) * (size_t)length_b);
    return;
copy_a:
    /* the first element of run B belongs at the front of the merge */
    dest -= length_a;
    cursor_a -= length_a;
    memmove(a + dest + 1, a + cursor_a + 1, sizeof(JSValue) * (size_t)length_a);
    a[dest] = t[cursor_t];
}

static void merge_at(SortState *s, int i)
{
    JSValue *a = s->a;
    int64_t base_a = s->run_base[i], length_a = s->run_len[i];
    int64_t base_b = s->run_base[i + 1], length_b = s->run_len[i + 1];
    s->run_len[i] = length_a + length_b;
    if (i == s->nruns - 3) {
        s->run_base[i + 1] = s->run_base[i + 2];
        s->run_len[i + 1] = s->run_len[i + 2];
    }
    s->nruns--;
    int64_t k = gallop_right(s, a, a[base_b], base_a, length_a, 0);
    if (s->failed)
        return;
    base_a += k;
    length_a -= k;
    if (length_a == 0)
        return;
    length_b = gallop_left(s, a, a[base_a + length_a - 1], base_b, length_b, length_b - 1);
    if (s->failed || length_b == 0)
        return;
    if (length_a <= length_b)
        merge_low(s, base_a, length_a, base_b, length_b);
    else
        merge_high(s, base_a, length_a, base_b, length_b);
}

static bool run_invariant(SortState *s, int n)
{
    if (n < 2)
        return true;
    return s->run_len[n - 2] > s->run_len[n - 1] + s->run_len[n];
}

static void merge_collapse(SortState *s)
{
    while (s->nruns > 1 && !s->failed) {
        int n = s->nruns - 2;
        if (!run_invariant(s, n + 1) || !run_invariant(s, n)) {
            if (s->run_len[n - 1] < s->run_len[n + 1])
                --n;
            merge_at(s, n);
        } else if (s->run_len[n] <= s->run_len[n + 1]) {
            merge_at(s, n);
        } else {
            break;
        }
    }
}

static void merge_force_collapse(SortState *s)
{
    while (s->nruns > 1 && !s->failed) {
        int n = s->nruns - 2;
        if (n > 0 && s->run_len[n - 1] < s->run_len[n + 1])
            --n;
        merge_at(s, n);
    }
}

/* Sort a[0..n) with comparefn fn. Returns -1 if an exception is pending. */
static int tim_sort(JSContext *ctx, JSValueConst fn, JSValue *a, int64_t n)
{
    SortState st = { 0 };
    SortState *s = &st;
    s->ctx = ctx;
    s->fn = fn;
    s->a = a;
    s->min_gallop = MIN_GALLOP;
    if (n >= 2) {
        int64_t remaining = n, low = 0;
        int64_t min_run = min_run_length(remaining);
        while (remaining != 0 && !s->failed) {
            int64_t run = count_and_make_run(s, low, low + remaining);
            if (s->failed)
                break;
            if (run < min_run) {
                int64_t forced = min_run < remaining ? min_run : remaining;
                binary_insertion_sort(s, low, low + run, low + forced);
                run = forced;
            }
            if (s->failed)
                break;
            s->run_base[s->nruns] = low;
            s->run_len[s->nruns] = run;
            s->nruns++;
            merge_collapse(s);
            low += run;
            remaining -= run;
        }
        if (!s->failed)
            merge_force_collapse(s);
    }
    free(s->tmp);
    return s->failed ? -1 : 0;
}

static JSAtom index_atom(JSContext *ctx, int64_t i)
{
    if (i <= UINT32_MAX - 1)
        return JS_NewAtomUInt32(ctx, (uint32_t)i);
    JSValue v = JS_NewInt64(ctx, i);
    JSAtom a = JS_ValueToAtom(ctx, v);
    JS_FreeValue(ctx, v);
    return a;
}

/*
 * Collect obj[0..len) into a work array: holes skipped (with_holes=false:
 * Array.prototype.sort) or read as undefined (toSorted); undefined values
 * counted apart. Returns the array (new references) or NULL on exception.
 */
static JSValue *collect(JSContext *ctx, JSValueConst obj, int64_t len, bool skip_holes, int64_t *pn,
                        int64_t *pundef)
{
    JSValue *a = malloc(sizeof(JSValue) * (size_t)(len > 0 ? len : 1));
    if (!a) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    int64_t n = 0, undef = 0;
    for (int64_t i = 0; i < len; i++) {
        if (skip_holes) {
            JSAtom atom = index_atom(ctx, i);
            int has = JS_HasProperty(ctx, obj, atom);
            JS_FreeAtom(ctx, atom);
            if (has < 0)
                goto fail;
            if (!has)
                continue;
        }
        JSValue v = JS_GetPropertyInt64(ctx, obj, i);
        if (JS_IsException(v))
            goto fail;
        if (JS_IsUndefined(v))
            undef++;
        else
            a[n++] = v;
    }
    *pn = n;
    *pundef = undef;
    return a;
fail:
    for (int64_t i = 0; i < n; i++)
        JS_FreeValue(ctx, a[i]);
    free(a);
    return NULL;
}

static void free_values(JSContext *ctx, JSValue *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        JS_FreeValue(ctx, a[i]);
    free(a);
}

static JSValue g_orig_sort = JS_UNDEFINED, g_orig_to_sorted = JS_UNDEFINED;

static JSValue check_comparefn(JSContext *ctx, JSValueConst fn)
{
    if (!JS_IsUndefined(fn) && !JS_IsFunction(ctx, fn))
        return JS_ThrowTypeError(ctx, "The comparison function must be either a function or undefined");
    return JS_UNDEFINED;
}

/* Array.prototype.sort(comparefn) */
static JSValue js_array_sort_v8(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JSValueConst fn = argc > 0 ? argv[0] : JS_UNDEFINED;
    if (JS_IsException(check_comparefn(ctx, fn)))
        return JS_EXCEPTION;
    if (JS_IsUndefined(fn))
        return JS_Call(ctx, g_orig_sort, this_val, argc, argv);
    JSValue obj = JS_ToObject(ctx, this_val);
    if (JS_IsException(obj))
        return obj;
    int64_t len;
    if (JS_GetLength(ctx, obj, &len) < 0)
        goto fail;
    if (len < 2)
        return obj;
    int64_t n, undef;
    JSValue *a = collect(ctx, obj, len, true, &n, &undef);
    if (!a)
        goto fail;
    if (tim_sort(ctx, fn, a, n) < 0) {
        free_values(ctx, a, n);
        goto fail;
    }
    int64_t i = 0;
    for (; i < n; i++) {
        if (JS_SetPropertyInt64(ctx, obj, i, a[i]) < 0) { /* consumes a[i] */
            for (int64_t j = i + 1; j < n; j++)
                JS_FreeValue(ctx, a[j]);
            free(a);
            goto fail;
        }
    }
    free(a);
    for (; i < n + undef; i++) {
        if (JS_SetPropertyInt64(ctx, obj, i, JS_UNDEFINED) < 0)
            goto fail;
    }
    for (; i < len; i++) {
        JSAtom atom = index_atom(ctx, i);
        int r = JS_DeleteProperty(ctx, obj, atom, JS_PROP_THROW);
        JS_FreeAtom(ctx, atom);
        if (r < 0)
            goto fail;
    }
    return obj;
fail:
    JS_FreeValue(ctx, obj);
    return JS_EXCEPTION;
}

/* Array.prototype.toSorted(comparefn) */
static JSValue js_array_to_sorted_v8(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    JSValueConst fn = argc > 0 ? argv[0] : JS_UNDEFINED;
    if (JS_IsException(check_comparefn(ctx, fn)))
        return JS_EXCEPTION;
    if (JS_IsUndefined(fn))
        return JS_Call(ctx, g_orig_to_sorted, this_val, argc, argv);
    JSValue obj = JS_ToObject(ctx, this_val);
    if (JS_IsException(obj))
        return obj;
    int64_t len;
    if (JS_GetLength(ctx, obj, &len) < 0) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    if (len > UINT32_MAX) {
        JS_FreeValue(ctx, obj);
        return JS_ThrowRangeError(ctx, "Invalid array length");
    }
    int64_t n, undef;
    JSValue *a = collect(ctx, obj, len, false, &n, &undef);
    JS_FreeValue(ctx, obj);
    if (!a)
        return JS_EXCEPTION;
    if (tim_sort(ctx, fn, a, n) < 0) {
        free_values(ctx, a, n);
        return JS_EXCEPTION;
    }
    JSValue arr = JS_NewArray(ctx);
    if (JS_IsException(arr)) {
        free_values(ctx, a, n);
        return arr;
    }
    for (int64_t i = 0; i < n; i++)
        JS_SetPropertyInt64(ctx, arr, i, a[i]);
    free(a);
    for (int64_t i = n; i < n + undef; i++)
        JS_SetPropertyInt64(ctx, arr, i, JS_UNDEFINED);
    return arr;
}

/* Install on Array.prototype (keeping QuickJS's versions for the case
   without a comparison function). */
void notary_install_sort(JSContext *ctx, JSValueConst array_proto)
{
    g_orig_sort = JS_GetPropertyStr(ctx, array_proto, "sort");
    g_orig_to_sorted = JS_GetPropertyStr(ctx, array_proto, "toSorted");
    static const JSCFunctionListEntry funcs[] = {
        JS_CFUNC_DEF("sort", 1, js_array_sort_v8),
        JS_CFUNC_DEF("toSorted", 1, js_array_to_sorted_v8),
    };
    for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
        JSAtom atom = JS_NewAtom(ctx, funcs[i].name);
        JS_DeleteProperty(ctx, array_proto, atom, 0);
        JS_FreeAtom(ctx, atom);
    }
    JS_SetPropertyFunctionList(ctx, array_proto, funcs, sizeof(funcs) / sizeof(funcs[0]));
}
