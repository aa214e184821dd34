#!/usr/bin/env python3
"""Patch the build copy of QuickJS-ng's quickjs.c (called by build.sh).

    python3 patches/apply.py build/src/quickjs.c

Each patch is an exact text replacement that must match the expected number
of times, so an update of the QuickJS sources fails loudly instead of
silently building something else. Then patches/quickjs-notary.c (helpers
that need QuickJS internals) is appended.

What and why:
  * Stack check on WASI: QuickJS-ng turns its stack-overflow check off for
    WASI. We turn it back on, so deep recursion throws "RangeError: Maximum
    call stack size exceeded" instead of running off the stack.
  * Messages: node's (V8's) wording for errors ordinary programs print with
    `console.log(e.message)`: reading/setting a property of undefined/null,
    assignment to a const, use before initialization, invalid array length,
    reduce of an empty array, toFixed/toPrecision/toExponential ranges,
    "f is not a function" / "a.b is not a function" (callee text from the
    program source, see quickjs-notary.c), class constructors without new,
    URIError, Symbol and BigInt conversions (a BigInt mixed with a number in
    an operator, BigInt() of a fraction, NaN or Infinity), String.prototype.
    repeat's count, and node 20's JSON.parse messages (no "(line, column)",
    "Unexpected token 'x', "..." is not valid JSON", positions, ...).
  * Arenas (quickjs-notary.c, notary_arena_reserve): the snapshot ends with
    room in every small-block size class, so a job never builds the first
    arena of a class the library left full (fuel that depended on the
    library's exact contents, up to 17 % of a hello world).
  * Date: toString()/toTimeString() end with " (Coordinated Universal Time)"
    like node's with TZ=UTC (WASI has no time zones: always UTC);
    toLocale{,Date,Time}String() use node's default en-US layout
    ("1/2/2024, 3:04:05 PM" rather than "01/02/2024, 03:04:05 PM").
"""
import sys

PATCHES = [
    # (description, old, new, expected count)
    ("stack check on WASI",
     "#if defined(__wasi__)\n    rt->stack_limit = 0; /* no limit */\n#else",
     "#if 0 /* notary: keep the stack check on WASI */\n    rt->stack_limit = 0; /* no limit */\n#else",
     1),
    ("read property of null",
     "\"cannot read property '%s' of null\"",
     "\"Cannot read properties of null (reading '%s')\"", 2),
    ("read property of undefined",
     "\"cannot read property '%s' of undefined\"",
     "\"Cannot read properties of undefined (reading '%s')\"", 2),
    ("set property of null",
     "\"cannot set property '%s' of null\"",
     "\"Cannot set properties of null (setting '%s')\"", 1),
    ("set property of undefined",
     "\"cannot set property '%s' of undefined\"",
     "\"Cannot set properties of undefined (setting '%s')\"", 1),
    ("assignment to const",
     "                if (type == JS_THROW_VAR_RO)\n"
     "                    JS_ThrowTypeErrorReadOnly(ctx, JS_PROP_THROW, atom);",
     "                if (type == JS_THROW_VAR_RO)\n"
     "                    JS_ThrowTypeError(ctx, \"Assignment to constant variable.\");",
     1),
    ("assignment to a global const",
     "        if (unlikely(!(prs->flags & JS_PROP_WRITABLE))) {\n"
     "            return JS_ThrowTypeErrorReadOnly(ctx, JS_PROP_THROW, prop);\n"
     "        }",
     "        if (unlikely(!(prs->flags & JS_PROP_WRITABLE))) {\n"
     "            return JS_ThrowTypeError(ctx, \"Assignment to constant variable.\");\n"
     "        }",
     1),
    ("assignment to a global const (2)",
     "            if (unlikely(!(prs->flags & JS_PROP_WRITABLE))) {\n"
     "                JS_FreeValue(ctx, val);\n"
     "                return JS_ThrowTypeErrorReadOnly(ctx, JS_PROP_THROW, prop);\n"
     "            }",
     "            if (unlikely(!(prs->flags & JS_PROP_WRITABLE))) {\n"
     "                JS_FreeValue(ctx, val);\n"
     "                return JS_ThrowTypeError(ctx, \"Assignment to constant variable.\");\n"
     "            }",
     1),
    ("use before initialization",
     "    return JS_ThrowReferenceError(ctx, \"%s is not initialized\",",
     "    return JS_ThrowReferenceError(ctx, \"Cannot access '%s' before initialization\",",
     1),
    ("invalid array length (RangeError)",
     "JS_ThrowRangeError(ctx, \"invalid array length\")",
     "JS_ThrowRangeError(ctx, \"Invalid array length\")", 3),
    ("reduce of empty array",
     "JS_ThrowTypeError(ctx, \"empty array\")",
     "JS_ThrowTypeError(ctx, \"Reduce of empty array with no initial value\")", 1),
    ("URIError",
     "    va_start(ap, fmt);\n    JS_ThrowError(ctx, JS_URI_ERROR, fmt, ap);\n    va_end(ap);",
     "    va_start(ap, fmt);\n    (void)fmt; /* notary: V8 says \"URI malformed\" for all of them */\n"
     "    JS_ThrowError(ctx, JS_URI_ERROR, \"URI malformed\", ap);\n    va_end(ap);",
     1),
    ("JSON.parse position",
     "    return js_parse_error(s, \"%s in JSON at position %d (line %d column %d)\",\n"
     "                          msg, position, line, (int)(p - line_start) + 1);",
     "    (void)line_start; /* notary: node 20 has no \"(line, column)\" */\n"
     "    return js_parse_error(s, \"%s in JSON at position %d\", msg, position);",
     1),
    ("JSON: declare notary_json_unexpected_token (patches/quickjs-notary.c)",
     "static int json_parse_error(JSParseState *s, const uint8_t *curp, const char *msg)\n{",
     "static int notary_json_unexpected_token(JSParseState *s, const uint8_t *curp);\n\n"
     "static int json_parse_error(JSParseState *s, const uint8_t *curp, const char *msg)\n{",
     1),
    ("JSON: unexpected token",
     "            js_parse_error(s, \"unexpected token: '%.*s'\",\n"
     "                           (int)(s->buf_ptr - s->token.ptr), s->token.ptr);",
     "            notary_json_unexpected_token(s, s->token.ptr);",
     1),
    ("JSON: unexpected non-ASCII character",
     "            if (p_next == p + 1) {\n"
     "                js_parse_error(s, \"Unexpected token '\\\\x%02x' in JSON\", *p);\n"
     "            } else {\n"
     "                if (c > 0xFFFF) {\n"
     "                    c = get_hi_surrogate(c);\n"
     "                }\n"
     "                js_parse_error(s, \"Unexpected token '\\\\u%04x' in JSON\", c);\n"
     "            }",
     "            (void)p_next;\n"
     "            notary_json_unexpected_token(s, p);",
     1),
    ("JSON: data after the value",
     "js_parse_error(s, \"unexpected data at the end\")",
     "js_parse_error(s, \"Unexpected non-whitespace character after JSON at position %d\",\n"
     "                       (int)(s->token.ptr - s->buf_start))",
     1),
    ("JSON: minus sign position",
     "json_parse_error(s, p, \"No number after minus sign\");",
     "json_parse_error(s, p + 1, \"No number after minus sign\");",
     1),
    ("JSON: leading zero position",
     "json_parse_error(s, p, \"Unexpected number\");",
     "json_parse_error(s, p + 1, \"Unexpected number\");",
     2),
    ("JSON: unterminated string",
     " end_of_input:\n    js_parse_error(s, \"Unexpected end of JSON input\");\n fail:\n    string_buffer_free(b);",
     " end_of_input:\n    json_parse_error(s, p, \"Unterminated string\");\n fail:\n    string_buffer_free(b);",
     1),
    ("JSON: property name after a comma",
     "            if (s->token.val != '}') {\n"
     "                for(;;) {\n"
     "                    if (s->token.val == TOK_STRING) {",
     "            if (s->token.val != '}') {\n"
     "                bool notary_first_prop = true;\n"
     "                for(;;) {\n"
     "                    if (s->token.val == TOK_STRING) {",
     1),
    ("JSON: property name after a comma (2)",
     "                        json_parse_error(s, s->token.ptr, \"Expected property name or '}'\");",
     "                        json_parse_error(s, s->token.ptr, notary_first_prop ?\n"
     "                                         \"Expected property name or '}'\" :\n"
     "                                         \"Expected double-quoted property name\");",
     1),
    ("JSON: property name after a comma (3)",
     "                    if (s->token.val != ',') {\n"
     "                        json_parse_error(s, s->token.ptr, \"Expected ',' or '}' after property value\");\n"
     "                        goto fail;\n"
     "                    }\n"
     "                    if (json_next_token(s))\n"
     "                        goto fail;\n",
     "                    if (s->token.val != ',') {\n"
     "                        json_parse_error(s, s->token.ptr, \"Expected ',' or '}' after property value\");\n"
     "                        goto fail;\n"
     "                    }\n"
     "                    if (json_next_token(s))\n"
     "                        goto fail;\n"
     "                    notary_first_prop = false;\n",
     1),
    ("not a function: name the callee (patches/quickjs-notary.c)",
     "static JSValue JS_ThrowTypeErrorNotAFunction(JSContext *ctx)\n{\n"
     "    return JS_ThrowTypeError(ctx, \"not a function\");\n}",
     "static JSValue notary_not_a_function(JSContext *ctx);\n\n"
     "static JSValue JS_ThrowTypeErrorNotAFunction(JSContext *ctx)\n{\n"
     "    return notary_not_a_function(ctx);\n}",
     1),
    ("class constructor called without new",
     "JS_ThrowTypeError(ctx, \"class constructors must be invoked with 'new'\");",
     "{ /* notary: V8's wording */\n"
     "                    const char *cname = get_func_name(ctx, func_obj);\n"
     "                    if (cname && cname[0])\n"
     "                        JS_ThrowTypeError(ctx, \"Class constructor %s cannot be invoked without 'new'\", cname);\n"
     "                    else\n"
     "                        JS_ThrowTypeError(ctx, \"Class constructors cannot be invoked without 'new'\");\n"
     "                    JS_FreeCString(ctx, cname);\n"
     "                }",
     1),
    ("Date toString time zone name",
     "            pos += snprintf(buf + pos, sizeof(buf) - pos,\n"
     "                            \"%02d%02d\", tz / 60, tz % 60);\n"
     "            /* XXX: tack the time zone code? */",
     "            pos += snprintf(buf + pos, sizeof(buf) - pos,\n"
     "                            \"%02d%02d\", tz / 60, tz % 60);\n"
     "            if (tz == 0) /* notary: always UTC, named as node does */\n"
     "                pos += snprintf(buf + pos, sizeof(buf) - pos,\n"
     "                                \" (Coordinated Universal Time)\");",
     1),
    ("Date toLocaleDateString layout",
     "\"%02d/%02d/%0*d\", mon + 1, d, 4 + (y < 0), y);",
     "\"%d/%d/%d\", mon + 1, d, y);", 1),
    ("Date toLocaleTimeString layout",
     "\"%02d:%02d:%02d %cM\", (h + 11) % 12 + 1, m, s,",
     "\"%d:%02d:%02d %cM\", (h + 11) % 12 + 1, m, s,", 1),
    ("symbol to string",
     "\"cannot convert symbol to string\"",
     "\"Cannot convert a Symbol value to a string\"", 1),
    ("symbol to number",
     "\"cannot convert symbol to number\"",
     "\"Cannot convert a Symbol value to a number\"", 1),
    ("BigInt to number",
     "\"cannot convert BigInt to number\"",
     "\"Cannot convert a BigInt value to a number\"", 1),
    # Arithmetic, bitwise and shift operators with one BigInt operand (V8 says so before it
    # would convert the BigInt to a number): js_binary_arith_slow, js_add_slow,
    # js_binary_logic_slow, js_shr_slow.
    ("BigInt mixed with other types",
     "    op2 = JS_ToNumericFree(ctx, op2);\n"
     "    if (JS_IsException(op2)) {\n"
     "        JS_FreeValue(ctx, op1);\n"
     "        goto exception;\n"
     "    }\n",
     "    op2 = JS_ToNumericFree(ctx, op2);\n"
     "    if (JS_IsException(op2)) {\n"
     "        JS_FreeValue(ctx, op1);\n"
     "        goto exception;\n"
     "    }\n"
     "    if ((JS_VALUE_GET_NORM_TAG(op1) == JS_TAG_BIG_INT || JS_VALUE_GET_NORM_TAG(op1) == JS_TAG_SHORT_BIG_INT) !=\n"
     "        (JS_VALUE_GET_NORM_TAG(op2) == JS_TAG_BIG_INT || JS_VALUE_GET_NORM_TAG(op2) == JS_TAG_SHORT_BIG_INT)) {\n"
     "        JS_FreeValue(ctx, op1);\n"
     "        JS_FreeValue(ctx, op2);\n"
     "        JS_ThrowTypeError(ctx, \"Cannot mix BigInt and other types, use explicit conversions\");\n"
     "        goto exception;\n"
     "    }\n", 4),
    ("unary + of a BigInt",
     "\"bigint argument with unary +\"",
     "\"Cannot convert a BigInt value to a number\"", 2),
    (">>> of BigInts",
     "\"BigInt operands are forbidden for >>>\"",
     "\"BigInts have no unsigned right shift, use >> instead\"", 1),
    ("BigInt of a number that is not an integer",
     "                } else if (res == 1) {\n"
     "                    val = JS_ThrowRangeError(ctx, \"cannot convert to BigInt: not an integer\");\n"
     "                } else {\n"
     "                    val = JS_ThrowRangeError(ctx, \"cannot convert NaN or Infinity to BigInt\");",
     "                } else {\n"
     "                    const char *shown = JS_ToCString(ctx, js_float64(d));\n"
     "                    val = JS_ThrowRangeError(ctx, \"The number %s cannot be converted to a BigInt because it is not an integer\", shown ? shown : \"?\");\n"
     "                    JS_FreeCString(ctx, shown);", 1),
    ("String.prototype.repeat count",
     "    if (val < 0 || val > 2147483647) {\n"
     "        JS_ThrowRangeError(ctx, \"invalid repeat count\");\n"
     "        goto fail;\n"
     "    }",
     "    if (val < 0 || val > 2147483647) {\n"
     "        if (val < 0 || val == INT64_MAX) {\n"
     "            const char *shown = JS_IsNumber(argv[0]) ? JS_ToCString(ctx, argv[0]) : NULL;\n"
     "            if (shown)\n"
     "                JS_ThrowRangeError(ctx, \"Invalid count value: %s\", shown);\n"
     "            else\n"
     "                JS_ThrowRangeError(ctx, \"Invalid count value: %lld\", (long long)val);\n"
     "            JS_FreeCString(ctx, shown);\n"
     "        } else {\n"
     "            JS_ThrowRangeError(ctx, \"Invalid string length\");\n"
     "        }\n"
     "        goto fail;\n"
     "    }", 1),
]

# toFixed / toExponential / toPrecision range errors, in source order
DIGITS = [
    ("js_number_toFixed", "toFixed() digits argument must be between 0 and 100"),
    ("js_number_toExponential", "toExponential() argument must be between 0 and 100"),
    ("js_number_toPrecision", "toPrecision() argument must be between 1 and 100"),
]


def main():
    path = sys.argv[1]
    extra = sys.argv[2] if len(sys.argv) > 2 else None
    s = open(path, encoding="utf-8").read()
    for desc, old, new, count in PATCHES:
        n = s.count(old)
        if n != count:
            sys.exit(f"patches/apply.py: '{desc}': expected {count} match(es), found {n}")
        s = s.replace(old, new)
    for func, msg in DIGITS:
        start = s.find(f"static JSValue {func}(")
        end = s.find("\n}\n", start)
        body = s[start:end]
        old = 'JS_ThrowRangeError(ctx, "invalid number of digits")'
        if start < 0 or body.count(old) != 1:
            sys.exit(f"patches/apply.py: {func}: range error message not found")
        s = s[:start] + body.replace(old, f'JS_ThrowRangeError(ctx, "{msg}")') + s[end:]
    if extra:
        s += "\n/* ---- notary additions (patches/quickjs-notary.c) ---- */\n"
        s += open(extra, encoding="utf-8").read()
    open(path, "w", encoding="utf-8").write(s)


if __name__ == "__main__":
    main()
