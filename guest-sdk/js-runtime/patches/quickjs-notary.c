/*
 * Appended to quickjs.c by build.sh (it needs QuickJS internals).
 *
 * notary_iterator_preview(): the entries a Map/Set iterator has not yet
 * produced, without advancing it -- what node's util.inspect shows for
 * `map.entries()` and friends (V8's previewEntries). Returns undefined for
 * other values, else an array [isKeyValue, ...entries] where a key/value
 * iterator contributes key, value pairs flattened.
 */
JSValue notary_iterator_preview(JSContext *ctx, JSValueConst val);
JSValue notary_iterator_preview(JSContext *ctx, JSValueConst val)
{
    JSClassID id = JS_GetClassID(val);
    int magic;
    if (id == JS_CLASS_MAP_ITERATOR)
        magic = 0;
    else if (id == JS_CLASS_SET_ITERATOR)
        magic = 1;
    else
        return JS_UNDEFINED;
    JSMapIteratorData *it = JS_GetOpaque(val, id);
    JSValue arr = JS_NewArray(ctx);
    if (JS_IsException(arr))
        return arr;
    uint32_t n = 0;
    JS_SetPropertyUint32(ctx, arr, n++, js_bool(it->kind == JS_ITERATOR_KIND_KEY_AND_VALUE));
    if (!JS_IsUndefined(it->obj)) {
        JSMapState *s = JS_GetOpaque(it->obj, JS_CLASS_MAP + magic);
        struct list_head *el = it->cur_record ? it->cur_record->link.next : s->records.next;
        for (; el != &s->records; el = el->next) {
            JSMapRecord *mr = list_entry(el, JSMapRecord, link);
            if (mr->empty)
                continue;
            JSValueConst v = magic ? mr->key : mr->value;
            if (it->kind != JS_ITERATOR_KIND_VALUE)
                JS_SetPropertyUint32(ctx, arr, n++, js_dup(mr->key));
            if (it->kind != JS_ITERATOR_KIND_KEY)
                JS_SetPropertyUint32(ctx, arr, n++, js_dup(v));
        }
    }
    return arr;
}

/*
 * JSON.parse "unexpected token" errors with node 20's (V8's) wording, from
 * V8's JsonParser::ReportUnexpectedToken: the offending character, and the
 * source (whole if shorter than 21 characters, else 10 characters around
 * the position); sources that are String(undefined/NaN/Infinity/{}) get
 * '"undefined" is not valid JSON'. `curp` is the start of QuickJS's token;
 * V8 scans the literals true/false/null one character at a time, so for a
 * word the error is at its first character that does not fit.
 */
static int notary_json_unexpected_token(JSParseState *s, const uint8_t *curp)
{
    const uint8_t *start = s->buf_start, *end = s->buf_end;
    static const char *const special[] = { "undefined", "NaN", "Infinity", "[object Object]" };
    int len = (int)(end - start);
    for (size_t i = 0; i < countof(special); i++) {
        if ((size_t)len == strlen(special[i]) && !memcmp(start, special[i], len))
            return js_parse_error(s, "\"%s\" is not valid JSON", special[i]);
    }
    if (curp < end && (*curp == 't' || *curp == 'f' || *curp == 'n')) {
        const char *lit = *curp == 't' ? "true" : *curp == 'f' ? "false" : "null";
        const uint8_t *p = curp;
        while (*lit && p < end && *p == (uint8_t)*lit) {
            p++;
            lit++;
        }
        if (p >= end)
            return js_parse_error(s, "Unexpected end of JSON input");
        curp = p;
    }
    if (curp >= end)
        return js_parse_error(s, "Unexpected end of JSON input");
    int toklen = 1;
    if (*curp >= 0xC0)
        toklen = *curp >= 0xF0 ? 4 : *curp >= 0xE0 ? 3 : 2;
    if (curp + toklen > end)
        toklen = (int)(end - curp);
    int pos = (int)(curp - start);
    if (len < 21)
        return js_parse_error(s, "Unexpected token '%.*s', \"%.*s\" is not valid JSON", toklen, curp, len, start);
    if (pos < 10)
        return js_parse_error(s, "Unexpected token '%.*s', \"%.*s\"... is not valid JSON", toklen, curp, pos + 10,
                              start);
    if (pos < len - 10)
        return js_parse_error(s, "Unexpected token '%.*s', ...\"%.*s\"... is not valid JSON", toklen, curp, 20,
                              start + pos - 10);
    return js_parse_error(s, "Unexpected token '%.*s', ...\"%.*s\" is not valid JSON", toklen, curp, len - pos + 10,
                          start + pos - 10);
}

/*
 * "x is not a function" with the callee named the way V8 does for the
 * common shapes: `f(...)` -> "f", `a.b.c(...)` -> "a.b.c", `new A.B()` ->
 * "A.B is not a constructor". QuickJS keeps no expression text, so we take
 * it from the program source (runner.c: notary_script_source) at the
 * position of the failing call. Anything more complex keeps QuickJS's
 * "not a function".
 */
const char *notary_script_source(JSAtom *filename, size_t *plen);

static bool notary_is_ident(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           c >= 0x80;
}

static JSValue notary_not_a_function(JSContext *ctx)
{
    JSStackFrame *sf = ctx->rt->current_stack_frame;
    JSAtom script_name;
    size_t len;
    const char *src = notary_script_source(&script_name, &len);
    if (!src || !sf || JS_VALUE_GET_TAG(sf->cur_func) != JS_TAG_OBJECT)
        goto plain;
    JSObject *p = JS_VALUE_GET_OBJ(sf->cur_func);
    if (!js_class_has_bytecode(p->class_id) || !sf->cur_pc)
        goto plain;
    JSFunctionBytecode *b = p->u.func.function_bytecode;
    if (b->filename != script_name)
        goto plain;
    int col = 0;
    int line = find_line_num(ctx, b, (uint32_t)(sf->cur_pc - b->byte_code_buf - 1), &col);
    if (line < 1 || col < 1)
        goto plain;
    /* offset of (line, col), both 1-based, columns in bytes */
    size_t o = 0;
    for (int l = 1; l < line && o < len; o++) {
        if (src[o] == '\n')
            l++;
    }
    o += (size_t)col - 1;
    if (o >= len)
        goto plain;
    bool is_new = false;
    size_t start = o, end;
    /* a member call points at the property name: extend back over a.b. */
    while (start > 0 && (notary_is_ident((uint8_t)src[start - 1]) || src[start - 1] == '.'))
        start--;
    size_t q = start;
    while (q > 0 && (src[q - 1] == ' ' || src[q - 1] == '\t'))
        q--;
    if (q > 0 && strchr(")]}'\"`", src[q - 1]))
        goto plain; /* the callee starts with a more complex expression */
    if (q >= 3 && q < start && !memcmp(src + q - 3, "new", 3) && (q == 3 || !notary_is_ident((uint8_t)src[q - 4])))
        is_new = true;
    end = start;
    while (end < len && (notary_is_ident((uint8_t)src[end]) || src[end] == '.'))
        end++;
    if (end == start || src[start] == '.' || src[end - 1] == '.' || (src[start] >= '0' && src[start] <= '9'))
        goto plain;
    q = end;
    while (q < len && (src[q] == ' ' || src[q] == '\t'))
        q++;
    if (q >= len || src[q] != '(')
        goto plain;
    return JS_ThrowTypeError(ctx, "%.*s is not a %s", (int)(end - start), src + start,
                             is_new ? "constructor" : "function");
plain:
    return JS_ThrowTypeError(ctx, "not a function");
}

/* Called once at the end of pre-initialization (runner.c): every size class
   of QuickJS's small-block arenas gets a fresh arena (first in line for that
   class's allocations) with one block taken for good, so it never empties
   and is never freed. Without it, which classes had room left in the
   snapshot depended on the snapshot's exact contents: a job paid for
   creating an arena (initializing its whole free list) in each class that
   happened to be full, and a job allocating and freeing one block of such a
   class created and freed an arena each time. A hello world cost 105 k or
   123 k fuel depending on which one-line change the library last had. */
void notary_arena_reserve(JSRuntime *rt);
void notary_arena_reserve(JSRuntime *rt)
{
    for (int i = 0; i < JS_ARENA_BLOCK_SIZE_COUNT; i++) {
        if (JS_ARENA_LARGE_BLOCKS_ONLY)
            return;
        JSArena *ar = arena_new(rt, i);
        if (!ar)
            return;
        unsigned int block_idx = ar->first_free_block;
        JSMallocBlockHeader *b = arena_get_block(ar, block_idx, arena_block_sizes[i]);
        ar->first_free_block = b->u.free_next; /* before block_idx overwrites it (a union) */
        b->u.block_idx = block_idx;
        ar->n_used_blocks++;
    }
}
