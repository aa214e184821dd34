// notary-js library, part 3 of 3: node's modules beyond the language --
// the WHATWG URL and URLSearchParams (globals, and require('url')),
// querystring, string_decoder, os, and the parts of fs and readline that
// make sense in a sandbox (stdin, which is the job's input text).
//
// Compiled to bytecode like lib.js and loaded by the runner on first use of
// one of them. The script evaluates to a function taking `N` (the C
// helpers), `core` (lib.js's helpers) and `base` (lib-extras.js's helpers
// for this part) and returning the exports object.
(function (N, core, base) {
  'use strict';

  const { inspect, hasOwn } = core;
  const { utf8Encode, utf8Decode, toBuffer, Buffer, path, EventEmitter } = base;
  const customInspect = core.customInspectSymbol;

  function codedError(Ctor, code, message, extra) {
    const e = new Ctor(message);
    e.code = code;
    if (extra) Object.assign(e, extra);
    return e;
  }
  function invalidArgType(name, type, v) {
    let received;
    if (v == null) received = ` Received ${v}`;
    else if (typeof v === 'function') received = ` Received function ${v.name}`;
    else if (typeof v === 'object') {
      received = v.constructor && v.constructor.name ? ` Received an instance of ${v.constructor.name}`
        : ` Received ${inspect(v, { depth: -1 })}`;
    } else {
      let shown = inspect(v, { colors: false });
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      received = ` Received type ${typeof v} (${shown})`;
    }
    return codedError(TypeError, 'ERR_INVALID_ARG_TYPE',
      `The "${name}" argument must be ${type}.${received}`);
  }
  // A USVString: lone surrogates become U+FFFD.
  function usv(v) {
    const s = String(v);
    return /[\ud800-\udfff]/.test(s)
      ? s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : s;
  }

  // ---- percent-encoding (WHATWG URL) -------------------------------------
  const HEX = '0123456789ABCDEF';
  const pct = (b) => `%${HEX[b >> 4]}${HEX[b & 15]}`;
  // Sets as predicates on a code point (number).
  const inC0 = (c) => c < 0x20 || c > 0x7e;
  const inFragment = (c) => inC0(c) || c === 0x20 || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60;
  const inQuery = (c) => inC0(c) || c === 0x20 || c === 0x22 || c === 0x23 || c === 0x3c || c === 0x3e;
  const inSpecialQuery = (c) => inQuery(c) || c === 0x27;
  const inPath = (c) => inQuery(c) || c === 0x3f || c === 0x60 || c === 0x7b || c === 0x7d;
  const inUserinfo = (c) => inPath(c) || c === 0x2f || c === 0x3a || c === 0x3b || c === 0x3d || c === 0x40 ||
    (c >= 0x5b && c <= 0x5e) || c === 0x7c;
  const inComponent = (c) => inUserinfo(c) || (c >= 0x24 && c <= 0x26) || c === 0x2b || c === 0x2c;

  // One code point (a string of 1 or 2 UTF-16 units), percent-encoded if in `set`.
  function encodeCodePoint(ch, set) {
    const c = ch.codePointAt(0);
    if (!set(c)) return ch;
    if (c < 0x80) return pct(c);
    let out = '';
    for (const b of utf8Encode(ch)) out += pct(b);
    return out;
  }
  function encodeString(s, set) {
    let i = 0;
    while (i < s.length && !set(s.charCodeAt(i))) i++; // the usual case: nothing to encode
    if (i === s.length) return s;
    let out = s.slice(0, i);
    for (const ch of s.slice(i)) out += encodeCodePoint(ch, set);
    return out;
  }
  const isHexDigit = (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  // Percent-decodes the UTF-8 bytes of `s` into bytes.
  function percentDecode(s) {
    const bytes = utf8Encode(s);
    const out = new Uint8Array(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x25 && i + 2 < bytes.length && isHexDigit(bytes[i + 1]) && isHexDigit(bytes[i + 2])) {
        out[n++] = parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16);
        i += 2;
      } else {
        out[n++] = b;
      }
    }
    return out.subarray(0, n);
  }

  // ---- hosts -------------------------------------------------------------
  const FAILURE = null;
  const forbiddenHost = new Set([0, 9, 0xa, 0xd, 0x20, 0x23, 0x2f, 0x3a, 0x3c, 0x3e, 0x3f, 0x40, 0x5b, 0x5c,
    0x5d, 0x5e, 0x7c]);
  const isForbiddenDomain = (c) => forbiddenHost.has(c) || c <= 0x1f || c === 0x25 || c === 0x7f;

  // RFC 3492.
  const PUNY = { base: 36, tMin: 1, tMax: 26, skew: 38, damp: 700, bias: 72, n: 128 };
  function punyAdapt(delta, points, first) {
    delta = first ? Math.floor(delta / PUNY.damp) : delta >> 1;
    delta += Math.floor(delta / points);
    let k = 0;
    while (delta > ((PUNY.base - PUNY.tMin) * PUNY.tMax) >> 1) {
      delta = Math.floor(delta / (PUNY.base - PUNY.tMin));
      k += PUNY.base;
    }
    return k + Math.floor(((PUNY.base - PUNY.tMin + 1) * delta) / (delta + PUNY.skew));
  }
  const punyDigit = (d) => String.fromCharCode(d < 26 ? 97 + d : 22 + d);
  function punyEncode(label) {
    const cps = Array.from(label, (ch) => ch.codePointAt(0));
    let out = '';
    for (const c of cps) if (c < 0x80) out += String.fromCharCode(c);
    const basic = out.length;
    let h = basic;
    if (basic) out += '-';
    let n = PUNY.n, delta = 0, bias = PUNY.bias;
    while (h < cps.length) {
      let m = Infinity;
      for (const c of cps) if (c >= n && c < m) m = c;
      delta += (m - n) * (h + 1);
      n = m;
      for (const c of cps) {
        if (c < n) delta++;
        if (c === n) {
          let q = delta;
          for (let k = PUNY.base; ; k += PUNY.base) {
            const t = k <= bias ? PUNY.tMin : k >= bias + PUNY.tMax ? PUNY.tMax : k - bias;
            if (q < t) break;
            out += punyDigit(t + ((q - t) % (PUNY.base - t)));
            q = Math.floor((q - t) / (PUNY.base - t));
          }
          out += punyDigit(q);
          bias = punyAdapt(delta, h + 1, h === basic);
          delta = 0;
          h++;
        }
      }
      delta++;
      n++;
    }
    return out;
  }
  function punyDecode(s) { // null on malformed input
    const cut = s.lastIndexOf('-');
    const out = [];
    for (let i = 0; i < Math.max(cut, 0); i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return null;
      out.push(c);
    }
    let n = PUNY.n, bias = PUNY.bias, i = 0;
    for (let p = cut > 0 ? cut + 1 : 0; p < s.length;) {
      const old = i;
      for (let w = 1, k = PUNY.base; ; k += PUNY.base) {
        if (p >= s.length) return null;
        const c = s.charCodeAt(p++);
        const d = c >= 48 && c <= 57 ? c - 22 : c >= 65 && c <= 90 ? c - 65 : c >= 97 && c <= 122 ? c - 97 : 36;
        if (d >= 36) return null;
        i += d * w;
        const t = k <= bias ? PUNY.tMin : k >= bias + PUNY.tMax ? PUNY.tMax : k - bias;
        if (d < t) break;
        w *= PUNY.base - t;
        if (i > 0x10ffff * 40) return null;
      }
      bias = punyAdapt(i - old, out.length + 1, old === 0);
      n += Math.floor(i / (out.length + 1));
      i %= out.length + 1;
      if (n > 0x10ffff) return null;
      out.splice(i++, 0, n);
    }
    return String.fromCodePoint(...out);
  }

  // UTS 46 ToASCII as URLs use it (not strict): mapping approximated by NFKC and lower
  // case (exact for the characters programs put in host names), punycode per label.
  function domainToASCIIInternal(domain) {
    let mapped = domain.replace(/[\u00ad\u200b\u2060\ufeff\u034f\u180b-\u180d\ufe00-\ufe0f]/g, '')
      .replace(/[\u3002\uff0e\uff61]/g, '.');
    mapped = mapped.normalize('NFKC').toLowerCase().normalize('NFC');
    // disallowed by UTS 46: the replacement character (undecodable percent-escapes), C1 controls
    if (/[\ufffd\u0080-\u009f]/.test(mapped)) return FAILURE;
    const labels = mapped.split('.');
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i];
      if (label.startsWith('xn--')) {
        const decoded = punyDecode(label.slice(4));
        if (decoded === null || decoded === '' || !/[^\x00-\x7f]/.test(decoded) ||
            decoded !== decoded.normalize('NFC').toLowerCase()) return FAILURE;
        continue;
      }
      if (/[^\x00-\x7f]/.test(label)) labels[i] = `xn--${punyEncode(label)}`;
    }
    const out = labels.join('.');
    return out === '' ? FAILURE : out;
  }
  function domainToUnicodeInternal(domain) {
    return domain.split('.').map((label) => {
      if (!label.toLowerCase().startsWith('xn--')) return label.toLowerCase();
      const d = punyDecode(label.slice(4));
      return d === null ? label : d;
    }).join('.');
  }

  function parseIPv4Number(s) { // [value, validationError] or null
    if (s === '') return null;
    let radix = 10;
    if (s.length >= 2 && (s.startsWith('0x') || s.startsWith('0X'))) {
      s = s.slice(2);
      radix = 16;
    } else if (s.length >= 2 && s[0] === '0') {
      s = s.slice(1);
      radix = 8;
    }
    if (s === '') return 0;
    const re = radix === 10 ? /^[0-9]+$/ : radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
    if (!re.test(s)) return null;
    return parseInt(s, radix);
  }
  function endsInNumber(s) {
    const parts = s.split('.');
    if (parts[parts.length - 1] === '') {
      if (parts.length === 1) return false;
      parts.pop();
    }
    const last = parts[parts.length - 1];
    if (last !== '' && /^[0-9]+$/.test(last)) return true;
    return parseIPv4Number(last) !== null;
  }
  function parseIPv4(s) {
    const parts = s.split('.');
    if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
    if (parts.length > 4) return FAILURE;
    const nums = [];
    for (const p of parts) {
      const n = parseIPv4Number(p);
      if (n === null) return FAILURE;
      nums.push(n);
    }
    for (let i = 0; i < nums.length - 1; i++) if (nums[i] > 255) return FAILURE;
    if (nums[nums.length - 1] >= 256 ** (5 - nums.length)) return FAILURE;
    let ipv4 = nums[nums.length - 1];
    for (let i = 0; i < nums.length - 1; i++) ipv4 += nums[i] * 256 ** (3 - i);
    const out = [];
    for (let i = 0; i < 4; i++) {
      out.unshift(String(ipv4 % 256));
      ipv4 = Math.floor(ipv4 / 256);
    }
    return out.join('.');
  }
  function parseIPv6(s) {
    const a = [0, 0, 0, 0, 0, 0, 0, 0];
    let piece = 0, compress = null, p = 0;
    const c = (i) => (i < s.length ? s.charCodeAt(i) : -1);
    const hex = (x) => isHexDigit(x);
    if (c(p) === 0x3a) {
      if (c(p + 1) !== 0x3a) return FAILURE;
      p += 2;
      compress = ++piece;
    }
    while (c(p) !== -1) {
      if (piece === 8) return FAILURE;
      if (c(p) === 0x3a) {
        if (compress !== null) return FAILURE;
        p++;
        compress = ++piece;
        continue;
      }
      let value = 0, length = 0;
      while (length < 4 && hex(c(p))) {
        value = value * 16 + parseInt(s[p], 16);
        p++;
        length++;
      }
      if (c(p) === 0x2e) {
        if (length === 0) return FAILURE;
        p -= length;
        if (piece > 6) return FAILURE;
        let seen = 0;
        while (c(p) !== -1) {
          let v4 = null;
          if (seen > 0) {
            if (c(p) === 0x2e && seen < 4) p++;
            else return FAILURE;
          }
          if (!(c(p) >= 0x30 && c(p) <= 0x39)) return FAILURE;
          while (c(p) >= 0x30 && c(p) <= 0x39) {
            const n = c(p) - 0x30;
            if (v4 === null) v4 = n;
            else if (v4 === 0) return FAILURE;
            else v4 = v4 * 10 + n;
            if (v4 > 255) return FAILURE;
            p++;
          }
          a[piece] = a[piece] * 0x100 + v4;
          seen++;
          if (seen === 2 || seen === 4) piece++;
        }
        if (seen !== 4) return FAILURE;
        break;
      } else if (c(p) === 0x3a) {
        p++;
        if (c(p) === -1) return FAILURE;
      } else if (c(p) !== -1) {
        return FAILURE;
      }
      a[piece++] = value;
    }
    if (compress !== null) {
      let swaps = piece - compress;
      piece = 7;
      while (piece !== 0 && swaps > 0) {
        const t = a[compress + swaps - 1];
        a[compress + swaps - 1] = a[piece];
        a[piece] = t;
        piece--;
        swaps--;
      }
    } else if (piece !== 8) {
      return FAILURE;
    }
    // serialize: the first longest run of two or more zero pieces becomes '::'
    let best = -1, bestLen = 1;
    for (let i = 0; i < 8;) {
      if (a[i] !== 0) { i++; continue; }
      let j = i;
      while (j < 8 && a[j] === 0) j++;
      if (j - i > bestLen) { best = i; bestLen = j - i; }
      i = j;
    }
    let out = '';
    for (let i = 0; i < 8; i++) {
      if (i === best) {
        out += i === 0 ? '::' : ':';
        i += bestLen - 1;
        continue;
      }
      out += a[i].toString(16);
      if (i !== 7) out += ':';
    }
    return `[${out}]`;
  }
  // The host parser; answers the serialized host or FAILURE.
  function parseHost(input, notSpecial) {
    if (input.startsWith('[')) {
      if (!input.endsWith(']')) return FAILURE;
      return parseIPv6(input.slice(1, -1));
    }
    if (notSpecial) {
      for (const ch of input) if (forbiddenHost.has(ch.codePointAt(0))) return FAILURE;
      return encodeString(input, inC0);
    }
    // the usual case: lower-case ASCII letters, digits, '-' and '.', no punycode label
    const ascii = /^[a-z0-9.-]+$/.test(input) && !input.includes('xn--') ? input
      : domainToASCIIInternal(utf8Decode(percentDecode(input), false));
    if (ascii === FAILURE) return FAILURE;
    for (let i = 0; i < ascii.length; i++) if (isForbiddenDomain(ascii.charCodeAt(i))) return FAILURE;
    if (endsInNumber(ascii)) return parseIPv4(ascii);
    return ascii;
  }

  // ---- the URL parser ----------------------------------------------------
  const SPECIAL = { 'ftp': 21, 'file': null, 'http': 80, 'https': 443, 'ws': 80, 'wss': 443 };
  const isSpecialScheme = (s) => hasOwn(SPECIAL, s);
  const defaultPort = (s) => (hasOwn(SPECIAL, s) ? SPECIAL[s] : null);
  const S = {
    SCHEME_START: 1, SCHEME: 2, NO_SCHEME: 3, SPECIAL_RELATIVE_OR_AUTHORITY: 4, PATH_OR_AUTHORITY: 5,
    RELATIVE: 6, RELATIVE_SLASH: 7, SPECIAL_AUTHORITY_SLASHES: 8, SPECIAL_AUTHORITY_IGNORE_SLASHES: 9,
    AUTHORITY: 10, HOST: 11, HOSTNAME: 12, PORT: 13, FILE: 14, FILE_SLASH: 15, FILE_HOST: 16,
    PATH_START: 17, PATH: 18, OPAQUE_PATH: 19, QUERY: 20, FRAGMENT: 21,
  };
  const isAlpha = (ch) => {
    const c = ch.charCodeAt(0) | 0x20;
    return ch.length === 1 && c >= 0x61 && c <= 0x7a;
  };
  const isSchemeChar = (ch) => {
    const c = ch.charCodeAt(0);
    return ch.length === 1 && ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a || (c >= 0x30 && c <= 0x39) ||
      c === 0x2b || c === 0x2d || c === 0x2e);
  };
  const isDriveLetter = (s) => s.length === 2 && isAlpha(s[0]) && (s[1] === ':' || s[1] === '|');
  const isNormalizedDriveLetter = (s) => s.length === 2 && isAlpha(s[0]) && s[1] === ':';
  function startsWithDriveLetter(cps, p) {
    if (cps.length - p < 2) return false;
    if (!isDriveLetter(cps[p] + cps[p + 1])) return false;
    if (cps.length - p === 2) return true;
    const t = cps[p + 2];
    return t === '/' || t === '\\' || t === '?' || t === '#';
  }
  const isSingleDot = (s) => s === '.' || s.toLowerCase() === '%2e';
  const isDoubleDot = (s) => {
    s = s.toLowerCase();
    return s === '..' || s === '.%2e' || s === '%2e.' || s === '%2e%2e';
  };
  const newRecord = () => ({
    scheme: '', username: '', password: '', host: null, port: null, path: [], opaque: false, query: null,
    fragment: null,
  });
  const cloneRecord = (r) => ({ ...r, path: r.opaque ? r.path : r.path.slice() });
  function shortenPath(url) {
    const p = url.path;
    if (url.scheme === 'file' && p.length === 1 && isNormalizedDriveLetter(p[0])) return;
    p.pop();
  }
  const includesCredentials = (url) => url.username !== '' || url.password !== '';

  // Absolute http(s)/ws(s)/ftp URLs that the parser below would return unchanged (lower-case
  // scheme and host name, no credentials, no dot segments, nothing to percent-encode) are
  // split by one regular expression: the state machine costs ~30 k fuel per character.
  const SIMPLE = /^(https?|wss?|ftp):\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([0-9]{1,5}))?((?:\/[\x21\x24-\x3b\x3d\x40-\x5b\x5d-\x5f\x61-\x7a\x7c\x7e]*)*)(\?[\x21\x24-\x26\x28-\x3b\x3d\x3f-\x7e]*)?(#[\x21\x23-\x3b\x3d\x3f-\x5f\x61-\x7e]*)?$/;
  const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=\/|$)/i;
  const NUMERIC_LAST_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/;
  function parseSimple(input) {
    const m = SIMPLE.exec(input);
    if (m === null) return null;
    const [, scheme, host, port, path, query, fragment] = m;
    if (NUMERIC_LAST_LABEL.test(host) || host.includes('xn--') || DOT_SEGMENT.test(path)) return null;
    const url = newRecord();
    url.scheme = scheme;
    url.host = host;
    if (port !== undefined) {
      const n = parseInt(port, 10);
      if (n > 65535) return null;
      url.port = n === SPECIAL[scheme] ? null : n;
    }
    url.path = path === '' ? [''] : path.slice(1).split('/');
    if (query !== undefined) url.query = query.slice(1);
    if (fragment !== undefined) url.fragment = fragment.slice(1);
    return url;
  }

  // The basic URL parser. Answers the record, or FAILURE. With `override` (a setter) it
  // changes `url` in place and answers it (or FAILURE), as the standard's setters do.
  function basicParse(input, base, url, override) {
    if (!url) {
      if (base === null) {
        const simple = parseSimple(input);
        if (simple !== null) return simple;
      }
      url = newRecord();
      input = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
    }
    input = input.replace(/[\t\n\r]/g, '');
    const cps = /[\ud800-\udfff]/.test(input) ? Array.from(input) : input.split('');
    const len = cps.length;
    let state = override || S.SCHEME_START;
    let buffer = '';
    let atSignSeen = false, insideBrackets = false, passwordTokenSeen = false;
    let spec = isSpecialScheme(url.scheme); // url.scheme is special (kept up to date)
    const remainingStartsWith = (p, s) => cps[p + 1] === s;
    for (let p = 0; ; p++) {
      const c = p < len ? cps[p] : undefined; // undefined: EOF
      const EOF = c === undefined;
      switch (state) {
        case S.SCHEME_START:
          if (!EOF && isAlpha(c)) {
            buffer += c.toLowerCase();
            state = S.SCHEME;
          } else if (!override) {
            state = S.NO_SCHEME;
            p--;
          } else {
            return FAILURE;
          }
          break;
        case S.SCHEME:
          if (!EOF && isSchemeChar(c)) {
            buffer += c.toLowerCase();
          } else if (c === ':') {
            if (override) {
              if (isSpecialScheme(url.scheme) !== isSpecialScheme(buffer)) return url;
              if ((includesCredentials(url) || url.port !== null) && buffer === 'file') return url;
              if (url.scheme === 'file' && url.host === '') return url;
            }
            url.scheme = buffer;
            spec = isSpecialScheme(url.scheme);
            if (override) {
              // node's URL (ada) counts 0 as a non-special scheme's default port here
              const dflt = isSpecialScheme(url.scheme) ? defaultPort(url.scheme) : 0;
              if (url.port === dflt) url.port = null;
              return url;
            }
            buffer = '';
            if (url.scheme === 'file') {
              state = S.FILE;
            } else if (spec && base && base.scheme === url.scheme) {
              state = S.SPECIAL_RELATIVE_OR_AUTHORITY;
            } else if (spec) {
              state = S.SPECIAL_AUTHORITY_SLASHES;
            } else if (remainingStartsWith(p, '/')) {
              state = S.PATH_OR_AUTHORITY;
              p++;
            } else {
              url.path = '';
              url.opaque = true;
              state = S.OPAQUE_PATH;
            }
          } else if (!override) {
            buffer = '';
            state = S.NO_SCHEME;
            p = -1;
          } else {
            return FAILURE;
          }
          break;
        case S.NO_SCHEME:
          if (!base || (base.opaque && c !== '#')) return FAILURE;
          if (base.opaque && c === '#') {
            url.scheme = base.scheme;
            spec = isSpecialScheme(url.scheme);
            url.path = base.path;
            url.opaque = true;
            url.query = base.query;
            url.fragment = '';
            state = S.FRAGMENT;
          } else if (base.scheme !== 'file') {
            state = S.RELATIVE;
            p--;
          } else {
            state = S.FILE;
            p--;
          }
          break;
        case S.SPECIAL_RELATIVE_OR_AUTHORITY:
          if (c === '/' && remainingStartsWith(p, '/')) {
            state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
            p++;
          } else {
            state = S.RELATIVE;
            p--;
          }
          break;
        case S.PATH_OR_AUTHORITY:
          if (c === '/') {
            state = S.AUTHORITY;
          } else {
            state = S.PATH;
            p--;
          }
          break;
        case S.RELATIVE:
          url.scheme = base.scheme;
          spec = isSpecialScheme(url.scheme);
          if (c === '/') {
            state = S.RELATIVE_SLASH;
          } else if (spec && c === '\\') {
            state = S.RELATIVE_SLASH;
          } else {
            url.username = base.username;
            url.password = base.password;
            url.host = base.host;
            url.port = base.port;
            url.path = base.path.slice();
            url.query = base.query;
            if (c === '?') {
              url.query = '';
              state = S.QUERY;
            } else if (c === '#') {
              url.fragment = '';
              state = S.FRAGMENT;
            } else if (!EOF) {
              url.query = null;
              shortenPath(url);
              state = S.PATH;
              p--;
            }
          }
          break;
        case S.RELATIVE_SLASH:
          if (spec && (c === '/' || c === '\\')) {
            state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
          } else if (c === '/') {
            state = S.AUTHORITY;
          } else {
            url.username = base.username;
            url.password = base.password;
            url.host = base.host;
            url.port = base.port;
            state = S.PATH;
            p--;
          }
          break;
        case S.SPECIAL_AUTHORITY_SLASHES:
          state = S.SPECIAL_AUTHORITY_IGNORE_SLASHES;
          if (c === '/' && remainingStartsWith(p, '/')) p++;
          else p--;
          break;
        case S.SPECIAL_AUTHORITY_IGNORE_SLASHES:
          if (c !== '/' && c !== '\\') {
            state = S.AUTHORITY;
            p--;
          }
          break;
        case S.AUTHORITY:
          if (c === '@') {
            if (atSignSeen) buffer = `%40${buffer}`;
            atSignSeen = true;
            for (const ch of buffer) {
              if (ch === ':' && !passwordTokenSeen) {
                passwordTokenSeen = true;
                continue;
              }
              const encoded = encodeCodePoint(ch, inUserinfo);
              if (passwordTokenSeen) url.password += encoded;
              else url.username += encoded;
            }
            buffer = '';
          } else if (EOF || c === '/' || c === '?' || c === '#' || (spec && c === '\\')) {
            if (atSignSeen && buffer === '') return FAILURE;
            p -= Array.from(buffer).length + 1;
            buffer = '';
            state = S.HOST;
          } else {
            buffer += c;
          }
          break;
        case S.HOST:
        case S.HOSTNAME:
          if (override && url.scheme === 'file') {
            p--;
            state = S.FILE_HOST;
          } else if (c === ':' && !insideBrackets) {
            if (buffer === '') return FAILURE;
            if (override === S.HOSTNAME) return FAILURE;
            const host = parseHost(buffer, !spec);
            if (host === FAILURE) return FAILURE;
            url.host = host;
            buffer = '';
            state = S.PORT;
          } else if (EOF || c === '/' || c === '?' || c === '#' || (spec && c === '\\')) {
            p--;
            if (spec && buffer === '') return FAILURE;
            if (override && buffer === '' && (includesCredentials(url) || url.port !== null)) return FAILURE;
            const host = parseHost(buffer, !spec);
            if (host === FAILURE) return FAILURE;
            url.host = host;
            buffer = '';
            state = S.PATH_START;
            if (override) return url;
          } else {
            if (c === '[') insideBrackets = true;
            if (c === ']') insideBrackets = false;
            buffer += c;
          }
          break;
        case S.PORT:
          if (!EOF && c >= '0' && c <= '9') {
            buffer += c;
          } else if (EOF || c === '/' || c === '?' || c === '#' || (spec && c === '\\') || override) {
            if (buffer !== '') {
              const port = parseInt(buffer, 10);
              if (port > 65535) return FAILURE;
              url.port = port === defaultPort(url.scheme) ? null : port;
              buffer = '';
            }
            if (override) return url;
            state = S.PATH_START;
            p--;
          } else {
            return FAILURE;
          }
          break;
        case S.FILE:
          url.scheme = 'file';
          spec = isSpecialScheme(url.scheme);
          url.host = '';
          if (c === '/' || c === '\\') {
            state = S.FILE_SLASH;
          } else if (base && base.scheme === 'file') {
            url.host = base.host;
            url.path = base.path.slice();
            url.query = base.query;
            if (c === '?') {
              url.query = '';
              state = S.QUERY;
            } else if (c === '#') {
              url.fragment = '';
              state = S.FRAGMENT;
            } else if (!EOF) {
              url.query = null;
              if (!startsWithDriveLetter(cps, p)) shortenPath(url);
              else url.path = [];
              state = S.PATH;
              p--;
            }
          } else {
            state = S.PATH;
            p--;
          }
          break;
        case S.FILE_SLASH:
          if (c === '/' || c === '\\') {
            state = S.FILE_HOST;
          } else {
            if (base && base.scheme === 'file') {
              url.host = base.host;
              if (!startsWithDriveLetter(cps, p) && base.path.length && isNormalizedDriveLetter(base.path[0])) {
                url.path.push(base.path[0]);
              }
            }
            state = S.PATH;
            p--;
          }
          break;
        case S.FILE_HOST:
          if (EOF || c === '/' || c === '\\' || c === '?' || c === '#') {
            p--;
            if (!override && isDriveLetter(buffer)) {
              state = S.PATH;
            } else if (buffer === '') {
              url.host = '';
              if (override) return url;
              state = S.PATH_START;
            } else {
              let host = parseHost(buffer, !spec);
              if (host === FAILURE) return FAILURE;
              if (host === 'localhost') host = '';
              url.host = host;
              if (override) return url;
              buffer = '';
              state = S.PATH_START;
            }
          } else {
            buffer += c;
          }
          break;
        case S.PATH_START:
          if (spec) {
            state = S.PATH;
            if (c !== '/' && c !== '\\') p--;
          } else if (!override && c === '?') {
            url.query = '';
            state = S.QUERY;
          } else if (!override && c === '#') {
            url.fragment = '';
            state = S.FRAGMENT;
          } else if (!EOF) {
            state = S.PATH;
            if (c !== '/') p--;
          } else if (override && url.host === null) {
            url.path.push('');
          }
          break;
        case S.PATH:
          if (EOF || c === '/' || (spec && c === '\\') || (!override && (c === '?' || c === '#'))) {
            const slash = c === '/' || (spec && c === '\\');
            if (isDoubleDot(buffer)) {
              // node's URL (ada) leaves a non-special URL's empty path empty here ('sc://h/..'
              // is 'sc://h'); the standard would make it '/'
              const keepEmpty = !spec && url.path.length === 0;
              shortenPath(url);
              if (!slash && !keepEmpty) url.path.push('');
            } else if (isSingleDot(buffer) && !slash) {
              url.path.push('');
            } else if (!isSingleDot(buffer)) {
              if (url.scheme === 'file' && url.path.length === 0 && isDriveLetter(buffer)) {
                buffer = `${buffer[0]}:`;
              }
              url.path.push(buffer);
            }
            buffer = '';
            if (c === '?') {
              url.query = '';
              state = S.QUERY;
            }
            if (c === '#') {
              url.fragment = '';
              state = S.FRAGMENT;
            }
          } else {
            buffer += encodeCodePoint(c, inPath);
          }
          break;
        case S.OPAQUE_PATH:
          if (c === '?') {
            url.query = '';
            state = S.QUERY;
          } else if (c === '#') {
            url.fragment = '';
            state = S.FRAGMENT;
          } else if (!EOF) {
            url.path += encodeCodePoint(c, inC0);
          }
          break;
        case S.QUERY:
          if ((!override && c === '#') || EOF) {
            url.query += encodeString(buffer, spec ? inSpecialQuery : inQuery);
            buffer = '';
            if (c === '#') {
              url.fragment = '';
              state = S.FRAGMENT;
            }
          } else {
            buffer += c;
          }
          break;
        case S.FRAGMENT:
          if (!EOF) url.fragment += encodeCodePoint(c, inFragment);
          break;
      }
      if (p >= len) break;
    }
    return url;
  }

  function serializePath(url) {
    if (url.opaque) return url.path;
    let out = '';
    for (const seg of url.path) out += `/${seg}`;
    return out;
  }
  function serializeURL(url, excludeFragment) {
    let out = `${url.scheme}:`;
    if (url.host !== null) {
      out += '//';
      if (includesCredentials(url)) {
        out += url.username;
        if (url.password !== '') out += `:${url.password}`;
        out += '@';
      }
      out += url.host;
      if (url.port !== null) out += `:${url.port}`;
    } else if (!url.opaque && url.path.length > 1 && url.path[0] === '') {
      out += '/.';
    }
    out += serializePath(url);
    if (url.query !== null) out += `?${url.query}`;
    if (!excludeFragment && url.fragment !== null) out += `#${url.fragment}`;
    return out;
  }
  function originOf(url) {
    switch (url.scheme) {
      case 'blob': {
        const inner = basicParse(serializePath(url), null);
        return inner && (inner.scheme === 'http' || inner.scheme === 'https') ? originOf(inner) : 'null';
      }
      case 'ftp': case 'http': case 'https': case 'ws': case 'wss':
        return `${url.scheme}://${url.host}${url.port === null ? '' : `:${url.port}`}`;
      default:
        return 'null';
    }
  }
  const cannotHaveCredentials = (url) => url.host === null || url.host === '' || url.scheme === 'file';

  // ---- application/x-www-form-urlencoded --------------------------------
  function formEncode(s) {
    let out = '';
    for (const b of utf8Encode(s)) {
      if (b === 0x20) out += '+';
      else if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
        b === 0x2a || b === 0x2d || b === 0x2e || b === 0x5f) out += String.fromCharCode(b);
      else out += pct(b);
    }
    return out;
  }
  function formSerialize(list) {
    let out = '';
    for (let i = 0; i < list.length; i += 2) {
      if (i) out += '&';
      out += `${formEncode(list[i])}=${formEncode(list[i + 1])}`;
    }
    return out;
  }

  // ---- querystring (node's algorithms, quirks included) --------------------
  const isHexByte = (c) => c < 128 && isHexDigit(c);
  const unhex = (c) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55
    : c >= 0x61 && c <= 0x66 ? c - 87 : -1);
  // %XX to bytes; every other UTF-16 unit is kept as its low byte, as node does.
  function unescapeBuffer(s, decodeSpaces) {
    s = `${s}`;
    const out = new Uint8Array(s.length);
    let o = 0;
    for (let i = 0; i < s.length;) {
      let c = s.charCodeAt(i);
      if (c === 0x2b && decodeSpaces) {
        out[o++] = 0x20;
        i++;
        continue;
      }
      if (c === 0x25 && i < s.length - 2) {
        c = s.charCodeAt(++i);
        const hi = c < 128 ? unhex(c) : -1;
        if (hi < 0) {
          out[o++] = 0x25;
          continue;
        }
        const lo = unhex(s.charCodeAt(++i));
        if (lo < 0) {
          out[o++] = 0x25;
          i--;
        } else {
          c = hi * 16 + lo;
        }
      }
      out[o++] = c;
      i++;
    }
    return toBuffer(out.slice(0, o));
  }
  function qsUnescape(s, decodeSpaces) {
    try {
      return decodeURIComponent(s);
    } catch {
      return utf8Decode(unescapeBuffer(s, decodeSpaces), false);
    }
  }
  const noEscape = (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
    c === 0x21 || c === 0x27 || c === 0x28 || c === 0x29 || c === 0x2a || c === 0x2d || c === 0x2e ||
    c === 0x5f || c === 0x7e;
  function qsEscape(str) {
    if (typeof str !== 'string') str = typeof str === 'object' ? String(str) : `${str}`;
    let out = '';
    for (let i = 0; i < str.length; i++) {
      let c = str.charCodeAt(i);
      if (c < 0x80) {
        out += noEscape(c) ? str[i] : pct(c);
      } else if (c < 0x800) {
        out += pct(0xc0 | (c >> 6)) + pct(0x80 | (c & 0x3f));
      } else if (c < 0xd800 || c >= 0xe000) {
        out += pct(0xe0 | (c >> 12)) + pct(0x80 | ((c >> 6) & 0x3f)) + pct(0x80 | (c & 0x3f));
      } else {
        if (++i >= str.length) throw codedError(URIError, 'ERR_INVALID_URI', 'URI malformed');
        c = 0x10000 + (((c & 0x3ff) << 10) | (str.charCodeAt(i) & 0x3ff));
        out += pct(0xf0 | (c >> 18)) + pct(0x80 | ((c >> 12) & 0x3f)) + pct(0x80 | ((c >> 6) & 0x3f)) +
          pct(0x80 | (c & 0x3f));
      }
    }
    return out;
  }
  function stringifyPrimitive(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && isFinite(v)) return `${v}`;
    if (typeof v === 'bigint') return `${v}`;
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    return '';
  }
  function encodeStringified(v, encode) {
    if (typeof v === 'string') return v.length ? encode(v) : '';
    if (typeof v === 'number' && isFinite(v)) return Math.abs(v) < 1e21 ? `${v}` : encode(`${v}`);
    if (typeof v === 'bigint') return `${v}`;
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    return '';
  }
  function qsStringify(obj, sep, eq, options) {
    sep = sep || '&';
    eq = eq || '=';
    let encode = querystring.escape;
    if (options && typeof options.encodeURIComponent === 'function') encode = options.encodeURIComponent;
    const convert = encode === qsEscape ? encodeStringified : (v, enc) => enc(stringifyPrimitive(v));
    if (obj === null || typeof obj !== 'object') return '';
    let fields = '';
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      const ks = convert(k, encode) + eq;
      if (Array.isArray(v)) {
        if (v.length === 0) continue;
        if (fields) fields += sep;
        for (let j = 0; j < v.length; j++) {
          if (j) fields += sep;
          fields += ks + convert(v[j], encode);
        }
      } else {
        if (fields) fields += sep;
        fields += ks + convert(v, encode);
      }
    }
    return fields;
  }
  function qsParse(qs, sep, eq, options) {
    const obj = { __proto__: null };
    if (typeof qs !== 'string' || qs.length === 0) return obj;
    const charCodes = (x) => Array.from({ length: x.length }, (_, i) => x.charCodeAt(i));
    const sepCodes = !sep ? [0x26] : charCodes(String(sep));
    const eqCodes = !eq ? [0x3d] : charCodes(String(eq));
    const sepLen = sepCodes.length, eqLen = eqCodes.length;
    let pairs = 1000;
    if (options && typeof options.maxKeys === 'number') pairs = options.maxKeys > 0 ? options.maxKeys : -1;
    let decode = querystring.unescape;
    if (options && typeof options.decodeURIComponent === 'function') decode = options.decodeURIComponent;
    const customDecode = decode !== qsUnescape;
    const decodeStr = (x) => {
      try {
        return decode(x);
      } catch {
        return querystring.unescape(x, true);
      }
    };
    const add = (key, value, keyEncoded, valEncoded) => {
      if (key.length > 0 && keyEncoded) key = decodeStr(key);
      if (value.length > 0 && valEncoded) value = decodeStr(value);
      if (obj[key] === undefined) obj[key] = value;
      else if (obj[key].pop) obj[key][obj[key].length] = value;
      else obj[key] = [obj[key], value];
    };
    let lastPos = 0, sepIdx = 0, eqIdx = 0, key = '', value = '';
    let keyEncoded = customDecode, valEncoded = customDecode;
    const plusChar = customDecode ? '%20' : ' ';
    let encodeCheck = 0;
    for (let i = 0; i < qs.length; ++i) {
      const code = qs.charCodeAt(i);
      if (code === sepCodes[sepIdx]) {
        if (++sepIdx === sepLen) {
          const end = i - sepIdx + 1;
          if (eqIdx < eqLen) {
            if (lastPos < end) {
              key += qs.slice(lastPos, end);
            } else if (key.length === 0) {
              if (--pairs === 0) return obj;
              lastPos = i + 1;
              sepIdx = eqIdx = 0;
              continue;
            }
          } else if (lastPos < end) {
            value += qs.slice(lastPos, end);
          }
          add(key, value, keyEncoded, valEncoded);
          if (--pairs === 0) return obj;
          keyEncoded = valEncoded = customDecode;
          key = value = '';
          encodeCheck = 0;
          lastPos = i + 1;
          sepIdx = eqIdx = 0;
        }
      } else {
        sepIdx = 0;
        if (eqIdx < eqLen) {
          if (code === eqCodes[eqIdx]) {
            if (++eqIdx === eqLen) {
              const end = i - eqIdx + 1;
              if (lastPos < end) key += qs.slice(lastPos, end);
              encodeCheck = 0;
              lastPos = i + 1;
            }
            continue;
          } else {
            eqIdx = 0;
            if (!keyEncoded) {
              if (code === 0x25) {
                encodeCheck = 1;
                continue;
              } else if (encodeCheck > 0) {
                if (isHexByte(code)) {
                  if (++encodeCheck === 3) keyEncoded = true;
                  continue;
                } else {
                  encodeCheck = 0;
                }
              }
            }
          }
          if (code === 0x2b) {
            if (lastPos < i) key += qs.slice(lastPos, i);
            key += plusChar;
            lastPos = i + 1;
            continue;
          }
        }
        if (code === 0x2b) {
          if (lastPos < i) value += qs.slice(lastPos, i);
          value += plusChar;
          lastPos = i + 1;
        } else if (!valEncoded) {
          if (code === 0x25) {
            encodeCheck = 1;
          } else if (encodeCheck > 0) {
            if (isHexByte(code)) {
              if (++encodeCheck === 3) valEncoded = true;
            } else {
              encodeCheck = 0;
            }
          }
        }
      }
    }
    if (lastPos < qs.length) {
      if (eqIdx < eqLen) key += qs.slice(lastPos);
      else if (sepIdx < sepLen) value += qs.slice(lastPos);
    } else if (eqIdx === 0 && key.length === 0) {
      return obj;
    }
    add(key, value, keyEncoded, valEncoded);
    return obj;
  }
  const querystring = {
    unescapeBuffer, unescape: qsUnescape, escape: qsEscape, stringify: qsStringify, encode: qsStringify,
    parse: qsParse, decode: qsParse,
  };

  // URLSearchParams' string parser, as node's (parseParams): a name or value with a valid
  // %XX goes through querystring.unescape, whose fallback keeps node's quirks.
  function formParse(qs) {
    const out = [];
    let seenSep = false, buf = '', encoded = false, encodeCheck = 0;
    let i = qs[0] === '?' ? 1 : 0;
    let pairStart = i, lastPos = i;
    const push = () => {
      if (lastPos < i) buf += qs.slice(lastPos, i);
      if (encoded) buf = qsUnescape(buf);
      out.push(buf);
    };
    for (; i < qs.length; ++i) {
      const code = qs.charCodeAt(i);
      if (code === 0x26) {
        if (pairStart === i) {
          lastPos = pairStart = i + 1;
          continue;
        }
        push();
        if (!seenSep) out.push('');
        seenSep = false;
        buf = '';
        encoded = false;
        encodeCheck = 0;
        lastPos = pairStart = i + 1;
        continue;
      }
      if (!seenSep && code === 0x3d) {
        push();
        seenSep = true;
        buf = '';
        encoded = false;
        encodeCheck = 0;
        lastPos = i + 1;
        continue;
      }
      if (code === 0x2b) {
        if (lastPos < i) buf += qs.slice(lastPos, i);
        buf += ' ';
        lastPos = i + 1;
      } else if (!encoded) {
        if (code === 0x25) {
          encodeCheck = 1;
        } else if (encodeCheck > 0) {
          if (isHexByte(code)) {
            if (++encodeCheck === 3) encoded = true;
          } else {
            encodeCheck = 0;
          }
        }
      }
    }
    if (pairStart === i) return out;
    push();
    if (!seenSep) out.push('');
    return out;
  }

  // ---- URL and URLSearchParams ------------------------------------------
  const invalidURL = (input, base) => codedError(TypeError, 'ERR_INVALID_URL', 'Invalid URL',
    base === undefined ? { input } : { input, base });
  const records = new WeakMap(); // URL -> record
  const paramsOf = new WeakMap(); // URL -> its URLSearchParams
  const lists = new WeakMap(); // URLSearchParams -> [name, value, name, value, ...]
  const owners = new WeakMap(); // URLSearchParams -> its URL, if any
  const recordOf = (u) => {
    const r = records.get(u);
    if (!r) throw codedError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type URL');
    return r;
  };
  const listOf = (p) => {
    const l = lists.get(p);
    if (!l) throw codedError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type URLSearchParams');
    return l;
  };
  function updateOwner(params) {
    const url = owners.get(params);
    if (!url) return;
    const q = formSerialize(lists.get(params));
    records.get(url).query = q === '' ? null : q;
  }
  function setList(params, list) {
    const l = lists.get(params);
    l.length = 0;
    for (const v of list) l.push(v);
  }
  function parseWithBase(input, base) {
    let baseRecord = null;
    if (base !== undefined) {
      baseRecord = basicParse(usv(base), null);
      if (baseRecord === FAILURE) return FAILURE;
    }
    return basicParse(usv(input), baseRecord);
  }

  class URL {
    constructor(input, base) {
      if (arguments.length === 0) {
        throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "url" argument must be specified');
      }
      input = `${input}`;
      if (base !== undefined) base = `${base}`;
      const record = parseWithBase(input, base);
      if (record === FAILURE) throw invalidURL(input, base);
      records.set(this, record);
    }
    static canParse(input, base) {
      if (arguments.length === 0) {
        throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "url" argument must be specified');
      }
      return parseWithBase(`${input}`, base === undefined ? undefined : `${base}`) !== FAILURE;
    }
    get href() { return serializeURL(recordOf(this)); }
    set href(v) {
      const r = basicParse(usv(v), null);
      if (r === FAILURE) throw invalidURL(`${v}`);
      records.set(this, r);
      const params = paramsOf.get(this);
      if (params) setList(params, r.query === null ? [] : formParse(`?${r.query}`));
    }
    get origin() { return originOf(recordOf(this)); }
    get protocol() { return `${recordOf(this).scheme}:`; }
    set protocol(v) { basicParse(`${usv(v)}:`, null, recordOf(this), S.SCHEME_START); }
    get username() { return recordOf(this).username; }
    set username(v) {
      const r = recordOf(this);
      if (!cannotHaveCredentials(r)) r.username = encodeString(usv(v), inUserinfo);
    }
    get password() { return recordOf(this).password; }
    set password(v) {
      const r = recordOf(this);
      if (!cannotHaveCredentials(r)) r.password = encodeString(usv(v), inUserinfo);
    }
    get host() {
      const r = recordOf(this);
      if (r.host === null) return '';
      return r.port === null ? r.host : `${r.host}:${r.port}`;
    }
    set host(v) { this.#setWith(v, S.HOST); }
    get hostname() {
      const r = recordOf(this);
      return r.host === null ? '' : r.host;
    }
    set hostname(v) { this.#setWith(v, S.HOSTNAME); }
    get port() {
      const r = recordOf(this);
      return r.port === null ? '' : String(r.port);
    }
    set port(v) {
      const r = recordOf(this);
      if (cannotHaveCredentials(r)) return;
      v = usv(v).replace(/[\t\n\r]/g, '');
      // As node's URL (ada) does, which differs from the standard's setter here: a value
      // without digits, or starting with a space, a control or '-', changes nothing; one
      // starting with another non-digit clears the port.
      if (v === '') {
        r.port = null;
      } else if (/[0-9]/.test(v) && v.charCodeAt(0) > 0x20 && v[0] !== '-') {
        if (v[0] >= '0' && v[0] <= '9') basicParse(v, null, r, S.PORT);
        else r.port = null;
      }
    }
    get pathname() { return serializePath(recordOf(this)); }
    set pathname(v) {
      const r = recordOf(this);
      if (r.opaque) return;
      const copy = cloneRecord(r);
      copy.path = [];
      if (basicParse(usv(v), null, copy, S.PATH_START) !== FAILURE) records.set(this, Object.assign(r, copy));
    }
    get search() {
      const q = recordOf(this).query;
      return q === null || q === '' ? '' : `?${q}`;
    }
    set search(v) {
      const r = recordOf(this);
      v = usv(v);
      const params = this.searchParams;
      if (v === '') {
        r.query = null;
        setList(params, []);
        return;
      }
      const input = v[0] === '?' ? v.slice(1) : v;
      r.query = '';
      basicParse(input, null, r, S.QUERY);
      setList(params, r.query === null ? [] : formParse(`?${r.query}`));
    }
    get searchParams() {
      recordOf(this);
      let params = paramsOf.get(this);
      if (!params) {
        params = new URLSearchParams();
        const q = records.get(this).query;
        if (q !== null) setList(params, formParse(`?${q}`));
        owners.set(params, this);
        paramsOf.set(this, params);
      }
      return params;
    }
    get hash() {
      const f = recordOf(this).fragment;
      return f === null || f === '' ? '' : `#${f}`;
    }
    set hash(v) {
      const r = recordOf(this);
      v = usv(v);
      if (v === '') {
        r.fragment = null;
        return;
      }
      r.fragment = '';
      basicParse(v[0] === '#' ? v.slice(1) : v, null, r, S.FRAGMENT);
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
    #setWith(v, state) {
      const r = recordOf(this);
      if (r.opaque) return;
      const copy = cloneRecord(r);
      if (basicParse(usv(v), null, copy, state) === FAILURE) return;
      // as node's URL (ada): an empty host does not give a URL without one an authority
      if (r.host === null && copy.host === '' && !isSpecialScheme(r.scheme)) return;
      Object.assign(r, copy);
    }
    [customInspect](depth, opts) {
      if (typeof depth === 'number' && depth < 0) return this;
      const obj = {
        href: this.href, origin: this.origin, protocol: this.protocol, username: this.username,
        password: this.password, host: this.host, hostname: this.hostname, port: this.port,
        pathname: this.pathname, search: this.search, searchParams: this.searchParams, hash: this.hash,
      };
      return `${this.constructor.name} ${inspect(obj, opts)}`;
    }
  }
  Object.defineProperty(URL.prototype, Symbol.toStringTag, { value: 'URL', configurable: true });
  for (const k of ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port',
    'pathname', 'search', 'searchParams', 'hash', 'toString', 'toJSON']) {
    const d = Object.getOwnPropertyDescriptor(URL.prototype, k);
    d.enumerable = true;
    Object.defineProperty(URL.prototype, k, d);
  }

  function* paramsIterator(list, kind) {
    for (let i = 0; i < list.length; i += 2) {
      yield kind === 'keys' ? list[i] : kind === 'values' ? list[i + 1] : [list[i], list[i + 1]];
    }
  }
  class URLSearchParams {
    constructor(init = undefined) {
      const list = [];
      lists.set(this, list);
      if (init === undefined || init === null) return;
      if (typeof init === 'object' || typeof init === 'function') {
        const iter = init[Symbol.iterator];
        if (iter !== undefined && iter !== null) {
          if (typeof iter !== 'function') throw codedError(TypeError, 'ERR_ARG_NOT_ITERABLE', 'Query pairs must be iterable');
          for (const pair of init) {
            if ((typeof pair !== 'object' && typeof pair !== 'function') || pair === null ||
                typeof pair[Symbol.iterator] !== 'function') {
              throw codedError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');
            }
            const kv = Array.from(pair);
            if (kv.length !== 2) {
              throw codedError(TypeError, 'ERR_INVALID_TUPLE', 'Each query pair must be an iterable [name, value] tuple');
            }
            list.push(usv(kv[0]), usv(kv[1]));
          }
        } else {
          for (const key of Reflect.ownKeys(init)) {
            if (typeof key !== 'string') continue;
            const d = Reflect.getOwnPropertyDescriptor(init, key);
            if (d !== undefined && d.enumerable) list.push(usv(key), usv(init[key]));
          }
        }
        return;
      }
      for (const v of formParse(usv(init))) list.push(v);
    }
    get size() { return listOf(this).length / 2; }
    append(name, value) {
      const list = listOf(this);
      if (arguments.length < 2) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "name" and "value" arguments must be specified');
      list.push(usv(name), usv(value));
      updateOwner(this);
    }
    delete(name, value = undefined) {
      const list = listOf(this);
      if (arguments.length < 1) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
      name = usv(name);
      if (value !== undefined) value = usv(value);
      for (let i = 0; i < list.length;) {
        if (list[i] === name && (value === undefined || list[i + 1] === value)) list.splice(i, 2);
        else i += 2;
      }
      updateOwner(this);
    }
    get(name) {
      const list = listOf(this);
      if (arguments.length < 1) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
      name = usv(name);
      for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
      return null;
    }
    getAll(name) {
      const list = listOf(this);
      if (arguments.length < 1) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
      name = usv(name);
      const out = [];
      for (let i = 0; i < list.length; i += 2) if (list[i] === name) out.push(list[i + 1]);
      return out;
    }
    has(name, value = undefined) {
      const list = listOf(this);
      if (arguments.length < 1) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "name" argument must be specified');
      name = usv(name);
      if (value !== undefined) value = usv(value);
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === name && (value === undefined || list[i + 1] === value)) return true;
      }
      return false;
    }
    set(name, value) {
      const list = listOf(this);
      if (arguments.length < 2) throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "name" and "value" arguments must be specified');
      name = usv(name);
      value = usv(value);
      let found = false;
      for (let i = 0; i < list.length;) {
        if (list[i] !== name) {
          i += 2;
        } else if (!found) {
          list[i + 1] = value;
          found = true;
          i += 2;
        } else {
          list.splice(i, 2);
        }
      }
      if (!found) list.push(name, value);
      updateOwner(this);
    }
    sort() {
      const list = listOf(this);
      const pairs = [];
      for (let i = 0; i < list.length; i += 2) pairs.push([list[i], list[i + 1]]);
      // stable, by UTF-16 code units
      pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      setList(this, pairs.flat());
      updateOwner(this);
    }
    forEach(callback, thisArg = undefined) {
      const list = listOf(this);
      if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
      for (let i = 0; i < list.length; i += 2) callback.call(thisArg, list[i + 1], list[i], this);
    }
    keys() { return paramsIterator(listOf(this), 'keys'); }
    values() { return paramsIterator(listOf(this), 'values'); }
    entries() { return paramsIterator(listOf(this), 'entries'); }
    toString() { return formSerialize(listOf(this)); }
    [customInspect](recurseTimes, ctx) {
      const list = listOf(this);
      if (typeof recurseTimes === 'number' && recurseTimes < 0) return ctx.stylize('[Object]', 'special');
      const innerOpts = { ...ctx };
      if (recurseTimes !== null) innerOpts.depth = recurseTimes - 1;
      const output = [];
      for (let i = 0; i < list.length; i += 2) {
        output.push(`${inspect(list[i], innerOpts)} => ${inspect(list[i + 1], innerOpts)}`);
      }
      const length = output.reduce((n, s) => n + s.length + 2, -2);
      if (length > ctx.breakLength) return `${this.constructor.name} {\n  ${output.join(',\n  ')} }`;
      if (output.length) return `${this.constructor.name} { ${output.join(', ')} }`;
      return `${this.constructor.name} {}`;
    }
  }
  URLSearchParams.prototype[Symbol.iterator] = URLSearchParams.prototype.entries;
  Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, { value: 'URLSearchParams', configurable: true });

  // ---- require('url') -----------------------------------------------------
  function fileURLToPath(u) {
    if (typeof u === 'string') u = new URL(u);
    else if (!(u instanceof URL)) throw invalidArgType('path', 'of type string or an instance of URL', u);
    if (u.protocol !== 'file:') throw codedError(TypeError, 'ERR_INVALID_URL_SCHEME', 'The URL must be of scheme file');
    if (u.hostname !== '') {
      throw codedError(TypeError, 'ERR_INVALID_FILE_URL_HOST', 'File URL host must be "localhost" or empty on linux');
    }
    const p = u.pathname;
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '%' && p[i + 1] === '2' && (p[i + 2] === 'f' || p[i + 2] === 'F')) {
        throw codedError(TypeError, 'ERR_INVALID_FILE_URL_PATH', 'File URL path must not include encoded / characters');
      }
    }
    return decodeURIComponent(p);
  }
  function pathToFileURL(filepath) {
    if (typeof filepath !== 'string') throw invalidArgType('path', 'of type string', filepath);
    let resolved = path.resolve(filepath);
    if (filepath.endsWith('/') && !resolved.endsWith('/')) resolved += '/';
    resolved = resolved.replace(/%/g, '%25').replace(/\\/g, '%5C').replace(/\n/g, '%0A').replace(/\r/g, '%0D')
      .replace(/\t/g, '%09');
    const out = new URL('file://');
    out.pathname = resolved;
    return out;
  }
  function urlFormat(u, options) {
    if (typeof u === 'string') return legacyFormat(legacyParse(u));
    if (typeof u !== 'object' || u === null) throw invalidArgType('urlObject', 'one of type object or string', u);
    if (!(u instanceof URL)) return legacyFormat(u);
    const o = { auth: true, fragment: true, search: true, unicode: false, ...options };
    const r = cloneRecord(records.get(u));
    if (!o.auth) {
      r.username = '';
      r.password = '';
    }
    if (!o.search) r.query = null;
    if (!o.fragment) r.fragment = null;
    if (o.unicode && r.host !== null) r.host = domainToUnicodeInternal(r.host);
    return serializeURL(r);
  }
  // ---- the legacy API: url.parse and url.format of its objects (node's lib/url.js) ----
  class Url {
    constructor() {
      this.protocol = null;
      this.slashes = null;
      this.auth = null;
      this.host = null;
      this.port = null;
      this.hostname = null;
      this.hash = null;
      this.search = null;
      this.query = null;
      this.pathname = null;
      this.path = null;
      this.href = null;
    }
  }
  const protocolPattern = /^[a-z0-9.+-]+:/i;
  const portPattern = /:[0-9]*$/;
  const hostPattern = /^\/\/[^@/]+@[^@/]+/;
  const simplePathPattern = /^(\/\/?(?!\/)[^?\s]*)(\?[^\s]*)?$/;
  const hostlessProtocol = new Set(['javascript', 'javascript:']);
  const slashedProtocol = new Set(['http', 'http:', 'https', 'https:', 'ftp', 'ftp:', 'gopher', 'gopher:', 'file',
    'file:', 'ws', 'ws:', 'wss', 'wss:']);
  const forbiddenHostChars = /[\0\t\n\r #%/:<>?@[\\\]^|]/;
  const forbiddenHostCharsIpv6 = /[\0\t\n\r #%/<>?@\\^|]/;
  const isIpv6Hostname = (h) => h.charCodeAt(0) === 0x5b && h.charCodeAt(h.length - 1) === 0x5d;
  const autoEscaped = { 9: '%09', 10: '%0A', 13: '%0D', 32: '%20', 34: '%22', 39: '%27', 60: '%3C', 62: '%3E',
    92: '%5C', 94: '%5E', 96: '%60', 123: '%7B', 124: '%7C', 125: '%7D' };
  function autoEscapeStr(rest) {
    let out = '';
    let last = 0;
    for (let i = 0; i < rest.length; i++) {
      const e = autoEscaped[rest.charCodeAt(i)];
      if (e) {
        out += rest.slice(last, i) + e;
        last = i + 1;
      }
    }
    return last === 0 ? rest : out + rest.slice(last);
  }
  function legacyParse(url, parseQueryString, slashesDenoteHost) {
    if (url instanceof Url) return url;
    if (typeof url !== 'string') throw invalidArgType('url', 'of type string', url);
    const self = new Url();
    let hasHash = false, hasAt = false, start = -1, end = -1, rest = '', lastPos = 0;
    for (let i = 0, inWs = false, split = false; i < url.length; ++i) {
      const code = url.charCodeAt(i);
      const isWs = code < 33 || code === 0xa0 || code === 0xfeff;
      if (start === -1) {
        if (isWs) continue;
        lastPos = start = i;
      } else if (inWs) {
        if (!isWs) {
          end = -1;
          inWs = false;
        }
      } else if (isWs) {
        end = i;
        inWs = true;
      }
      if (!split) {
        if (code === 0x40) {
          hasAt = true;
        } else if (code === 0x23 || code === 0x3f) {
          if (code === 0x23) hasHash = true;
          split = true;
        } else if (code === 0x5c) {
          if (i - lastPos > 0) rest += url.slice(lastPos, i);
          rest += '/';
          lastPos = i + 1;
        }
      } else if (!hasHash && code === 0x23) {
        hasHash = true;
      }
    }
    if (start !== -1) {
      if (lastPos === start) {
        rest = end === -1 ? (start === 0 ? url : url.slice(start)) : url.slice(start, end);
      } else if (end === -1 && lastPos < url.length) {
        rest += url.slice(lastPos);
      } else if (end !== -1 && lastPos < end) {
        rest += url.slice(lastPos, end);
      }
    }
    if (!slashesDenoteHost && !hasHash && !hasAt) {
      const simplePath = simplePathPattern.exec(rest);
      if (simplePath) {
        self.path = rest;
        self.href = rest;
        self.pathname = simplePath[1];
        if (simplePath[2]) {
          self.search = simplePath[2];
          self.query = parseQueryString ? qsParse(self.search.slice(1)) : self.search.slice(1);
        } else if (parseQueryString) {
          self.search = null;
          self.query = { __proto__: null };
        }
        return self;
      }
    }
    let proto = protocolPattern.exec(rest);
    let lowerProto;
    if (proto) {
      proto = proto[0];
      lowerProto = proto.toLowerCase();
      self.protocol = lowerProto;
      rest = rest.slice(proto.length);
    }
    let slashes;
    if (slashesDenoteHost || proto || hostPattern.test(rest)) {
      slashes = rest.charCodeAt(0) === 0x2f && rest.charCodeAt(1) === 0x2f;
      if (slashes && !(proto && hostlessProtocol.has(lowerProto))) {
        rest = rest.slice(2);
        self.slashes = true;
      }
    }
    if (!hostlessProtocol.has(lowerProto) && (slashes || (proto && !slashedProtocol.has(proto)))) {
      let hostEnd = -1, atSign = -1, nonHost = -1;
      for (let i = 0; i < rest.length; ++i) {
        switch (rest.charCodeAt(i)) {
          case 9: case 10: case 13: // removed, as the WHATWG parser does (node 20)
            rest = rest.slice(0, i) + rest.slice(i + 1);
            i -= 1;
            break;
          case 32: case 34: case 37: case 39: case 59: case 60: case 62: case 92:
          case 94: case 96: case 123: case 124: case 125:
            if (nonHost === -1) nonHost = i;
            break;
          case 35: case 47: case 63:
            if (nonHost === -1) nonHost = i;
            hostEnd = i;
            break;
          case 64:
            atSign = i;
            nonHost = -1;
            break;
        }
        if (hostEnd !== -1) break;
      }
      start = 0;
      if (atSign !== -1) {
        self.auth = decodeURIComponent(rest.slice(0, atSign));
        start = atSign + 1;
      }
      if (nonHost === -1) {
        self.host = rest.slice(start);
        rest = '';
      } else {
        self.host = rest.slice(start, nonHost);
        rest = rest.slice(nonHost);
      }
      // the port
      let host = self.host;
      let port = portPattern.exec(host);
      if (port) {
        port = port[0];
        if (port !== ':') self.port = port.slice(1);
        host = host.slice(0, host.length - port.length);
      }
      if (host) self.hostname = host;
      if (typeof self.hostname !== 'string') self.hostname = '';
      const hostname = self.hostname;
      const ipv6Hostname = isIpv6Hostname(hostname);
      if (!ipv6Hostname) {
        for (let i = 0; i < hostname.length; ++i) {
          const code = hostname.charCodeAt(i);
          if (code === 0x2f || code === 0x5c || code === 0x23 || code === 0x3f || code === 0x3a) {
            self.hostname = hostname.slice(0, i);
            rest = `/${hostname.slice(i)}${rest}`;
            break;
          }
        }
      }
      self.hostname = self.hostname.length > 255 ? '' : self.hostname.toLowerCase();
      if (self.hostname !== '') {
        if (ipv6Hostname) {
          if (forbiddenHostCharsIpv6.test(self.hostname)) throw invalidURL(url);
        } else {
          const ascii = /^[\x00-\x7f]*$/.test(self.hostname) ? self.hostname : domainToASCIIInternal(self.hostname);
          self.hostname = ascii === FAILURE ? '' : ascii;
          if (self.hostname === '' || forbiddenHostChars.test(self.hostname)) throw invalidURL(url);
        }
      }
      self.host = (self.hostname || '') + (self.port ? `:${self.port}` : '');
      if (ipv6Hostname) {
        self.hostname = self.hostname.slice(1, -1);
        if (rest[0] !== '/') rest = `/${rest}`;
      }
    }
    if (!hostlessProtocol.has(lowerProto)) rest = autoEscapeStr(rest);
    let questionIdx = -1, hashIdx = -1;
    for (let i = 0; i < rest.length; ++i) {
      const code = rest.charCodeAt(i);
      if (code === 0x23) {
        self.hash = rest.slice(i);
        hashIdx = i;
        break;
      } else if (code === 0x3f && questionIdx === -1) {
        questionIdx = i;
      }
    }
    if (questionIdx !== -1) {
      if (hashIdx === -1) {
        self.search = rest.slice(questionIdx);
        self.query = rest.slice(questionIdx + 1);
      } else {
        self.search = rest.slice(questionIdx, hashIdx);
        self.query = rest.slice(questionIdx + 1, hashIdx);
      }
      if (parseQueryString) self.query = qsParse(self.query);
    } else if (parseQueryString) {
      self.search = null;
      self.query = { __proto__: null };
    }
    const firstIdx = questionIdx !== -1 && (hashIdx === -1 || questionIdx < hashIdx) ? questionIdx : hashIdx;
    if (firstIdx === -1) {
      if (rest.length > 0) self.pathname = rest;
    } else if (firstIdx > 0) {
      self.pathname = rest.slice(0, firstIdx);
    }
    if (slashedProtocol.has(lowerProto) && self.hostname && !self.pathname) self.pathname = '/';
    if (self.pathname || self.search) self.path = (self.pathname || '') + (self.search || '');
    self.href = legacyFormat(self);
    return self;
  }
  const noEscapeAuth = (c) => noEscape(c) || c === 0x3a;
  function legacyFormat(obj) {
    let auth = obj.auth || '';
    if (auth) {
      let out = '';
      for (const ch of auth) {
        const c = ch.charCodeAt(0);
        out += c < 0x80 && noEscapeAuth(c) ? ch : qsEscape(ch);
      }
      auth = `${out}@`;
    }
    let protocol = obj.protocol || '';
    let pathname = obj.pathname || '';
    let hash = obj.hash || '';
    let host = '';
    let query = '';
    if (obj.host) {
      host = auth + obj.host;
    } else if (obj.hostname) {
      host = auth + (obj.hostname.includes(':') && !isIpv6Hostname(obj.hostname) ? `[${obj.hostname}]` : obj.hostname);
      if (obj.port) host += `:${obj.port}`;
    }
    if (obj.query !== null && typeof obj.query === 'object') query = qsStringify(obj.query);
    let search = obj.search || (query && `?${query}`) || '';
    if (protocol && protocol.charCodeAt(protocol.length - 1) !== 0x3a) protocol += ':';
    pathname = pathname.replace(/[#?]/g, (c) => (c === '#' ? '%23' : '%3F'));
    if (obj.slashes || slashedProtocol.has(protocol)) {
      if (obj.slashes || host) {
        if (pathname && pathname.charCodeAt(0) !== 0x2f) pathname = `/${pathname}`;
        host = `//${host}`;
      } else if (protocol.length >= 4 && protocol.startsWith('file')) {
        host = '//';
      }
    }
    search = search.replace(/#/g, '%23');
    if (hash && hash.charCodeAt(0) !== 0x23) hash = `#${hash}`;
    if (search && search.charCodeAt(0) !== 0x3f) search = `?${search}`;
    return protocol + host + pathname + search + hash;
  }
  Url.prototype.format = function format() {
    return legacyFormat(this);
  };
  Url.prototype.parse = function parse(u, parseQueryString, slashesDenoteHost) {
    return Object.assign(this, legacyParse(u, parseQueryString, slashesDenoteHost));
  };
  Url.prototype.resolve = function resolve(relative) {
    return this.resolveObject(legacyParse(relative, false, true)).format();
  };
  Url.prototype.resolveObject = function resolveObject(relative) {
    if (typeof relative === 'string') relative = legacyParse(relative, false, true);
    const result = new Url();
    for (const k of Object.keys(this)) result[k] = this[k];
    result.hash = relative.hash;
    if (relative.href === '') {
      result.href = result.format();
      return result;
    }
    if (relative.slashes && !relative.protocol) {
      for (const k of Object.keys(relative)) if (k !== 'protocol') result[k] = relative[k];
      if (slashedProtocol.has(result.protocol) && result.hostname && !result.pathname) {
        result.path = result.pathname = '/';
      }
      result.href = result.format();
      return result;
    }
    if (relative.protocol && relative.protocol !== result.protocol) {
      if (!slashedProtocol.has(relative.protocol)) {
        for (const k of Object.keys(relative)) result[k] = relative[k];
        result.href = result.format();
        return result;
      }
      result.protocol = relative.protocol;
      if (!relative.host && !/^file:?$/.test(relative.protocol) && !hostlessProtocol.has(relative.protocol)) {
        const relPath = (relative.pathname || '').split('/');
        while (relPath.length && !(relative.host = relPath.shift()));
        if (!relative.host) relative.host = '';
        if (!relative.hostname) relative.hostname = '';
        if (relPath[0] !== '') relPath.unshift('');
        if (relPath.length < 2) relPath.unshift('');
        result.pathname = relPath.join('/');
      } else {
        result.pathname = relative.pathname;
      }
      result.search = relative.search;
      result.query = relative.query;
      result.host = relative.host || '';
      result.auth = relative.auth;
      result.hostname = relative.hostname || relative.host;
      result.port = relative.port;
      if (result.pathname || result.search) result.path = (result.pathname || '') + (result.search || '');
      result.slashes = result.slashes || relative.slashes;
      result.href = result.format();
      return result;
    }
    const isSourceAbs = result.pathname && result.pathname.charAt(0) === '/';
    const isRelAbs = relative.host || (relative.pathname && relative.pathname.charAt(0) === '/');
    let mustEndAbs = isRelAbs || isSourceAbs || (result.host && relative.pathname);
    const removeAllDots = mustEndAbs;
    let srcPath = (result.pathname && result.pathname.split('/')) || [];
    const relPath = (relative.pathname && relative.pathname.split('/')) || [];
    const noLeadingSlashes = result.protocol && !slashedProtocol.has(result.protocol);
    if (noLeadingSlashes) {
      result.hostname = '';
      result.port = null;
      if (result.host) {
        if (srcPath[0] === '') srcPath[0] = result.host;
        else srcPath.unshift(result.host);
      }
      result.host = '';
      if (relative.protocol) {
        relative.hostname = null;
        relative.port = null;
        result.auth = null; // node 20: a protocol in the reference drops the base's credentials
        if (relative.host) {
          if (relPath[0] === '') relPath[0] = relative.host;
          else relPath.unshift(relative.host);
        }
        relative.host = null;
      }
      mustEndAbs = mustEndAbs && (relPath[0] === '' || srcPath[0] === '');
    }
    const authFromHost = () => {
      const parts = result.host && result.host.indexOf('@') > 0 ? result.host.split('@') : false;
      if (parts) {
        result.auth = parts.shift();
        result.host = result.hostname = parts.shift();
      }
    };
    if (isRelAbs) {
      if (relative.host || relative.host === '') {
        if (result.host !== relative.host) result.auth = null;
        result.host = relative.host;
        result.port = relative.port;
      }
      if (relative.hostname || relative.hostname === '') {
        if (result.hostname !== relative.hostname) result.auth = null;
        result.hostname = relative.hostname;
      }
      result.search = relative.search;
      result.query = relative.query;
      srcPath = relPath;
    } else if (relPath.length) {
      srcPath.pop();
      srcPath = srcPath.concat(relPath);
      result.search = relative.search;
      result.query = relative.query;
    } else if (relative.search !== null && relative.search !== undefined) {
      if (noLeadingSlashes) {
        result.hostname = result.host = srcPath.shift();
        authFromHost();
      }
      result.search = relative.search;
      result.query = relative.query;
      if (result.pathname !== null || result.search !== null) {
        result.path = (result.pathname ? result.pathname : '') + (result.search ? result.search : '');
      }
      result.href = result.format();
      return result;
    }
    if (!srcPath.length) {
      result.pathname = null;
      result.path = result.search ? `/${result.search}` : null;
      result.href = result.format();
      return result;
    }
    let last = srcPath.slice(-1)[0];
    const hasTrailingSlash = ((result.host || relative.host || srcPath.length > 1) &&
      (last === '.' || last === '..')) || last === '';
    let up = 0;
    for (let i = srcPath.length - 1; i >= 0; i--) {
      last = srcPath[i];
      if (last === '.') {
        srcPath.splice(i, 1);
      } else if (last === '..') {
        srcPath.splice(i, 1);
        up++;
      } else if (up) {
        srcPath.splice(i, 1);
        up--;
      }
    }
    if (!mustEndAbs && !removeAllDots) while (up--) srcPath.unshift('..');
    if (mustEndAbs && srcPath[0] !== '' && (!srcPath[0] || srcPath[0].charAt(0) !== '/')) srcPath.unshift('');
    if (hasTrailingSlash && srcPath.join('/').slice(-1) !== '/') srcPath.push('');
    const isAbsolute = srcPath[0] === '' || (srcPath[0] && srcPath[0].charAt(0) === '/');
    if (noLeadingSlashes) {
      result.hostname = result.host = isAbsolute ? '' : srcPath.length ? srcPath.shift() : '';
      authFromHost();
    }
    mustEndAbs = mustEndAbs || (result.host && srcPath.length);
    if (mustEndAbs && !isAbsolute) srcPath.unshift('');
    if (srcPath.length > 0) {
      result.pathname = srcPath.join('/');
    } else {
      result.pathname = null;
      result.path = null;
    }
    if (result.pathname !== null || result.search !== null) {
      result.path = (result.pathname ? result.pathname : '') + (result.search ? result.search : '');
    }
    result.auth = relative.auth || result.auth;
    result.slashes = result.slashes || relative.slashes;
    result.href = result.format();
    return result;
  };
  const legacyResolve = (source, relative) => legacyParse(source, false, true).resolve(relative);
  function legacyResolveObject(source, relative) {
    if (!source) return relative;
    return legacyParse(source, false, true).resolveObject(relative);
  }
  function domainToASCII(domain) {
    const r = parseHost(`${domain}`, false);
    return r === FAILURE ? '' : r;
  }
  function domainToUnicode(domain) {
    const r = parseHost(`${domain}`, false);
    return r === FAILURE ? '' : domainToUnicodeInternal(r);
  }
  function urlToHttpOptions(u) {
    const r = records.get(u);
    const options = {
      __proto__: null,
      protocol: u.protocol,
      hostname: u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname,
      hash: u.hash,
      search: u.search,
      pathname: u.pathname,
      path: `${u.pathname || ''}${u.search || ''}`,
      href: u.href,
    };
    if (u.port !== '') options.port = Number(u.port);
    if (r.username || r.password) options.auth = `${decodeURIComponent(r.username)}:${decodeURIComponent(r.password)}`;
    return options;
  }
  const url = { Url, parse: legacyParse, resolve: legacyResolve, resolveObject: legacyResolveObject, URL, URLSearchParams, fileURLToPath, pathToFileURL, format: urlFormat,
    domainToASCII, domainToUnicode, urlToHttpOptions };

  // ---- string_decoder -----------------------------------------------------
  const { normEncoding, bytesToString } = base;
  // How many bytes at the end of `b` start a UTF-8 sequence that is valid so far but not
  // complete (0 to 3): they wait for the next write.
  function utf8Incomplete(b) {
    const n = b.length;
    for (let back = 1; back <= Math.min(3, n); back++) {
      const lead = b[n - back];
      if ((lead & 0xc0) === 0x80) continue; // a continuation byte: look further back
      let need, lo = 0x80, hi = 0xbf;
      if (lead >= 0xc2 && lead <= 0xdf) need = 1;
      else if (lead >= 0xe0 && lead <= 0xef) {
        need = 2;
        if (lead === 0xe0) lo = 0xa0;
        if (lead === 0xed) hi = 0x9f;
      } else if (lead >= 0xf0 && lead <= 0xf4) {
        need = 3;
        if (lead === 0xf0) lo = 0x90;
        if (lead === 0xf4) hi = 0x8f;
      } else return 0;
      if (back - 1 >= need) return 0; // complete
      if (back >= 2 && (b[n - back + 1] < lo || b[n - back + 1] > hi)) return 0; // invalid anyway
      return back;
    }
    return 0;
  }
  class StringDecoder {
    constructor(encoding) {
      const e = normEncoding(encoding === undefined || encoding === null ? 'utf8' : encoding);
      this.encoding = e;
      this._pending = new Uint8Array(0);
    }
    write(buf) {
      if (typeof buf === 'string') return buf;
      if (!ArrayBuffer.isView(buf)) {
        throw invalidArgType('buf', 'an instance of Buffer, TypedArray, or DataView', buf);
      }
      let bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      if (this._pending.length) {
        const joined = new Uint8Array(this._pending.length + bytes.length);
        joined.set(this._pending);
        joined.set(bytes, this._pending.length);
        bytes = joined;
      }
      let keep = 0;
      switch (this.encoding) {
        case 'utf8': keep = utf8Incomplete(bytes); break;
        case 'utf16le': {
          keep = bytes.length % 2;
          const end = bytes.length - keep;
          if (end >= 2) {
            const last = bytes[end - 2] | (bytes[end - 1] << 8);
            if (last >= 0xd800 && last <= 0xdbff) keep += 2;
          }
          break;
        }
        case 'base64': case 'base64url': keep = bytes.length % 3; break;
        default: break;
      }
      this._pending = bytes.slice(bytes.length - keep);
      return bytesToString(bytes.subarray(0, bytes.length - keep), this.encoding);
    }
    end(buf) {
      let out = buf === undefined ? '' : this.write(buf);
      const rest = this._pending;
      this._pending = new Uint8Array(0);
      if (rest.length) {
        if (this.encoding === 'utf8') out += '\ufffd';
        else if (this.encoding === 'utf16le') out += bytesToString(rest.subarray(0, rest.length - (rest.length % 2)), 'utf16le');
        else out += bytesToString(rest, this.encoding);
      }
      return out;
    }
    text(buf, offset) {
      this._pending = new Uint8Array(0);
      return this.write(buf.subarray(offset));
    }
    get lastNeed() {
      return this._pending.length;
    }
  }

  // ---- stdin: the job's input text ----------------------------------------
  // Stdin behaves as a file holding the input text (`node prog.js < input`): reading fd 0
  // (fs.readFileSync(0), process.stdin, readline) consumes it, while opening /dev/stdin
  // reads it all again.
  const inputText = () => globalThis.Notary.inputText;
  const STDIN_NAMES = new Set([0, '/dev/stdin', '/proc/self/fd/0', '/dev/fd/0']);
  let stdinConsumed = false;
  function takeStdin() {
    if (stdinConsumed) return new Uint8Array(0);
    stdinConsumed = true;
    return utf8Encode(inputText());
  }
  let stdin;
  // When input arrives: as a read completes in node, after the timers already due (a
  // top-level setTimeout(f, 0) runs first) and the immediates already queued.
  const afterRead = (fn) => setImmediate(() => setTimeout(fn, 0));
  // process.stdin: a readable stream of one chunk, the input text, then 'end' and 'close'.
  class Stdin extends EventEmitter {
    constructor() {
      super();
      this.fd = 0;
      this.readable = true;
      this._encoding = null;
      this._started = false;
      this._done = false;
      this._chunk = null; // for read()
    }
    setEncoding(enc) {
      this._encoding = normEncoding(enc);
      return this;
    }
    _data() {
      const bytes = takeStdin();
      return this._encoding ? bytesToString(bytes, this._encoding) : toBuffer(bytes);
    }
    _start() {
      if (this._started) return;
      this._started = true;
      afterRead(() => {
        const data = this._data();
        if (data.length) this.emit('data', data);
        this._finish();
      });
    }
    _finish() {
      if (this._done) return;
      this._done = true;
      this.readable = false;
      this.emit('end');
      this.emit('close');
    }
    on(name, fn) {
      super.on(name, fn);
      if (name === 'data') this._start();
      if (name === 'readable' && !this._started) {
        this._started = true;
        this._chunk = this._data();
        afterRead(() => {
          this.emit('readable');
          if (this._chunk === null || this._chunk.length === 0) this._finish();
        });
      }
      return this;
    }
    once(name, fn) {
      const wrapped = (...args) => {
        this.off(name, wrapped);
        fn.apply(this, args);
      };
      wrapped.listener = fn;
      return this.on(name, wrapped);
    }
    read() {
      const c = this._chunk;
      this._chunk = null;
      if (c !== null && c.length) {
        setImmediate(() => this._finish());
        return c;
      }
      return null;
    }
    resume() {
      this._start();
      return this;
    }
    pause() {
      return this;
    }
    pipe(dest) {
      this.on('data', (d) => dest.write(d));
      return dest;
    }
    async *[Symbol.asyncIterator]() {
      this._started = true;
      const data = this._data();
      if (data.length) yield data;
      this._finish();
    }
  }
  const getStdin = () => (stdin ||= new Stdin());

  // ---- readline -----------------------------------------------------------
  function splitLines(text) {
    const lines = text.split(/\r\n|\n|\r/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  }
  class Interface extends EventEmitter {
    constructor(input, output) {
      super();
      if (input && typeof input === 'object' && !(input instanceof Stdin) && input.input !== undefined) {
        output = input.output;
        input = input.input;
      }
      this.input = input;
      this.output = output;
      this.terminal = false;
      this.line = '';
      this.closed = false;
      this._prompt = '> ';
      this._lines = null;
      this._iterating = false;
      this._ready = new Promise((resolve) => {
        this._readyResolve = resolve; // once the lines are known
      });
      this._waiting = []; // question() callbacks
      this._paused = false;
      if (input instanceof Stdin) {
        input._started = true;
        // a stream that has ended never ends again: node's interface then never closes
        if (!input._done) afterRead(() => this._feed());
      } else if (input && typeof input.on === 'function') {
        let text = '';
        input.on('data', (d) => { text += typeof d === 'string' ? d : bytesToString(d, 'utf8'); });
        input.on('end', () => {
          this._lines = splitLines(text);
          this._drain();
        });
      }
    }
    _feed() {
      this._lines = splitLines(bytesToString(takeStdin(), 'utf8'));
      this._drain();
    }
    _drain() {
      this._readyResolve();
      if (this._iterating) return; // the async iterator takes the lines
      while (this._lines.length && !this.closed) {
        const line = this._lines.shift();
        const q = this._waiting.shift();
        if (q) q(line);
        else this.emit('line', line);
      }
      if (!this.closed) this.close();
      if (this.input instanceof Stdin) this.input._finish();
    }
    setPrompt(p) {
      this._prompt = `${p}`;
    }
    getPrompt() {
      return this._prompt;
    }
    prompt() {
      if (this.output && typeof this.output.write === 'function') this.output.write(this._prompt);
    }
    question(query, options, cb) {
      if (typeof options === 'function') cb = options;
      if (this.closed) throw codedError(Error, 'ERR_USE_AFTER_CLOSE', 'readline was closed');
      if (this.output && typeof this.output.write === 'function') this.output.write(`${query}`);
      if (typeof cb === 'function') this._waiting.push(cb);
    }
    write(data) {
      if (this.output && typeof this.output.write === 'function') this.output.write(`${data}`);
    }
    pause() {
      this._paused = true;
      return this;
    }
    resume() {
      this._paused = false;
      return this;
    }
    close() {
      if (this.closed) return;
      this.closed = true;
      this.emit('close');
    }
    async *[Symbol.asyncIterator]() {
      this._iterating = true;
      await this._ready;
      while (this._lines.length && !this.closed) yield this._lines.shift();
      this.close();
      if (this.input instanceof Stdin) this.input._finish();
    }
  }
  const readline = {
    Interface,
    createInterface: (input, output) => new Interface(input, output),
    clearLine: () => true,
    clearScreenDown: () => true,
    cursorTo: () => true,
    moveCursor: () => true,
    emitKeypressEvents: () => {},
  };
  const readlinePromises = {
    Interface,
    createInterface(input, output) {
      const rl = new Interface(input, output);
      const question = rl.question.bind(rl);
      rl.question = (query) => new Promise((resolve) => question(query, resolve));
      return rl;
    },
  };

  // ---- fs: stdin, stdout and stderr only (the sandbox has no files) -------
  function fsError(code, errno, message, syscall, p) {
    const e = new Error(`${code}: ${message}, ${syscall}${p === undefined ? '' : ` '${p}'`}`);
    e.errno = errno;
    e.code = code;
    e.syscall = syscall;
    if (p !== undefined) e.path = p;
    return e;
  }
  const encodingOf = (options) => (typeof options === 'string' ? options : options && options.encoding);
  function readFileSync(p, options) {
    const enc = encodingOf(options);
    if (STDIN_NAMES.has(p)) {
      const bytes = p === 0 ? takeStdin() : utf8Encode(inputText());
      return enc ? bytesToString(bytes, enc) : toBuffer(bytes);
    }
    if (typeof p !== 'string' && typeof p !== 'number' && !(p instanceof URL) && !ArrayBuffer.isView(p)) {
      throw invalidArgType('path', 'of type string or an instance of Buffer or URL', p);
    }
    if (typeof p === 'number') throw fsError('EBADF', -9, 'bad file descriptor', 'read');
    throw fsError('ENOENT', -2, 'no such file or directory', 'open', `${p instanceof URL ? fileURLToPath(p) : p}`);
  }
  // through process.stdout/stderr, which write a byte array's bytes as they are
  function writeTo(fd, data) {
    const stream = fd === 1 ? globalThis.process.stdout : globalThis.process.stderr;
    stream.write(ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : typeof data === 'string' ? data : `${data}`);
  }
  const outFd = (f) => (f === 1 || f === '/dev/stdout' ? 1 : f === 2 || f === '/dev/stderr' ? 2 : 0);
  function writeFileSync(f, data) {
    const fd = outFd(f);
    if (!fd) throw fsError('EROFS', -30, 'read-only file system', 'open', `${f}`);
    writeTo(fd, data);
  }
  function writeSync(fd, data) {
    if (fd !== 1 && fd !== 2) throw fsError('EBADF', -9, 'bad file descriptor', 'write');
    writeTo(fd, data);
    return typeof data === 'string' ? utf8Encode(data).length : data.byteLength;
  }
  function later(cb, f) {
    let err = null, value;
    try {
      value = f();
    } catch (e) {
      err = e;
    }
    if (typeof cb === 'function') setImmediate(() => cb(err, value));
  }
  const fs = {
    readFileSync,
    writeFileSync,
    appendFileSync: writeFileSync,
    writeSync,
    existsSync: (p) => STDIN_NAMES.has(p) || outFd(p) !== 0,
    readFile(p, options, cb) {
      if (typeof options === 'function') cb = options;
      later(cb, () => readFileSync(p, options));
    },
    writeFile(f, data, options, cb) {
      if (typeof options === 'function') cb = options;
      later(cb, () => writeFileSync(f, data));
    },
    promises: {
      readFile: async (p, options) => readFileSync(p, options),
      writeFile: async (f, data) => writeFileSync(f, data),
    },
  };

  // ---- os -----------------------------------------------------------------
  const os = {
    EOL: '\n',
    devNull: '/dev/null',
    arch: () => 'wasm32',
    machine: () => 'wasm32',
    platform: () => 'wasi',
    type: () => 'WASI',
    release: () => '',
    version: () => '',
    hostname: () => 'localhost',
    homedir: () => '/',
    tmpdir: () => '/tmp',
    endianness: () => 'LE',
    cpus: () => [],
    availableParallelism: () => 1,
    totalmem: () => 2 ** 32,
    freemem: () => 2 ** 32 - globalThis.process.memoryUsage().rss,
    loadavg: () => [0, 0, 0],
    uptime: () => globalThis.process.uptime(),
    networkInterfaces: () => ({}),
    userInfo: () => ({ uid: -1, gid: -1, username: 'notary', homedir: '/', shell: null }),
    getPriority: () => 0,
    setPriority: () => {},
    constants: { signals: {}, errno: {}, priority: {} },
  };

  return {
    URL,
    URLSearchParams,
    stdin: getStdin,
    modules: {
      url: () => url,
      querystring: () => querystring,
      string_decoder: () => ({ StringDecoder }),
      readline: () => readline,
      'readline/promises': () => readlinePromises,
      fs: () => fs,
      'fs/promises': () => fs.promises,
      os: () => os,
    },
  };
});
