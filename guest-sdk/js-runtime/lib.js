// notary-js library, part 1 of 3: util.inspect / util.format, process
// events and the uncaught-exception report.
//
// Compiled to QuickJS bytecode at build time (build.sh: tools/compile.c,
// source and debug info stripped) and embedded in the runner, which loads
// it the first time it is needed: when console output needs
// util.inspect/util.format (anything but plain strings, numbers, booleans,
// null, undefined and bigints), for process.on(...) and to report an
// uncaught exception. Rarely used features live in lib-extras.js, loaded
// separately, so that printing an object does not pay for them.
//
// The script evaluates to a function taking `N`, an object of C helpers
// (see make_internals() in runner.c), and returning the exports object.
//
// The inspect/format part re-implements node v20's util.inspect and
// util.formatWithOptions algorithm (same options, same line breaking and
// array grouping) so that console.log output matches node byte for byte.
(function (N) {
  'use strict';

  // ---- builtins captured at load time --------------------------------
  const ObjectPrototype = Object.prototype;
  const hasOwn = (o, k) => ObjectPrototype.hasOwnProperty.call(o, k);
  const propertyIsEnumerable = (o, k) => ObjectPrototype.propertyIsEnumerable.call(o, k);
  const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames;
  const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectKeys = Object.keys;
  const ObjectIs = Object.is;
  const FunctionPrototypeToString = Function.prototype.toString;
  const SymbolPrototypeToString = Symbol.prototype.toString;
  const SymbolPrototypeValueOf = Symbol.prototype.valueOf;
  const NumberPrototypeValueOf = Number.prototype.valueOf;
  const StringPrototypeValueOf = String.prototype.valueOf;
  const BooleanPrototypeValueOf = Boolean.prototype.valueOf;
  const BigIntPrototypeValueOf = BigInt.prototype.valueOf;
  // Date, Map/Set and typed arrays are created lazily by the runner (see
  // "lazy globals" in runner.c); their primordials are captured on first
  // use, which only happens once such an object exists.
  let dateP, mapSetP, typedP;
  const getDateP = () => (dateP ||= {
    getTime: Date.prototype.getTime,
    toISOString: Date.prototype.toISOString,
    toString: Date.prototype.toString,
  });
  const getMapSetP = () => (mapSetP ||= {
    mapEntries: Map.prototype.entries,
    setValues: Set.prototype.values,
    mapSize: Object.getOwnPropertyDescriptor(Map.prototype, 'size').get,
    setSize: Object.getOwnPropertyDescriptor(Set.prototype, 'size').get,
  });
  const getTypedP = () => {
    if (!typedP) {
      const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
      typedP = {
        tag: Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag).get,
        length: Object.getOwnPropertyDescriptor(TypedArrayPrototype, 'length').get,
      };
    }
    return typedP;
  };
  const DatePrototypeGetTime = { call: (d) => getDateP().getTime.call(d) };
  const MapPrototypeEntries = { call: (m) => getMapSetP().mapEntries.call(m) };
  const SetPrototypeValues = { call: (s) => getMapSetP().setValues.call(s) };
  const mapSize = { call: (m) => getMapSetP().mapSize.call(m) };
  const setSize = { call: (s) => getMapSetP().setSize.call(s) };
  const typedArrayTag = { call: (t) => getTypedP().tag.call(t) };
  const typedArrayLength = { call: (t) => getTypedP().length.call(t) };
  const RegExpPrototypeToString = RegExp.prototype.toString;
  const ErrorPrototypeToString = Error.prototype.toString;
  const JSONStringify = JSON.stringify;
  const ArrayIsArray = Array.isArray;
  const MathMin = Math.min, MathMax = Math.max, MathSqrt = Math.sqrt, MathRound = Math.round, MathFloor = Math.floor;
  const AsyncFunctionPrototype = Object.getPrototypeOf(async function () {});
  const GeneratorFunctionPrototype = Object.getPrototypeOf(function* () {});
  const AsyncGeneratorFunctionPrototype = Object.getPrototypeOf(async function* () {});

  const className = N.className;
  const isNativeError = N.isError;

  // ---- type checks (brand checks through the engine's class ids) -----
  const cls = (v) => className(v);
  const isSet = (v) => cls(v) === 'Set';
  const isMap = (v) => cls(v) === 'Map';
  const isWeakSet = (v) => cls(v) === 'WeakSet';
  const isWeakMap = (v) => cls(v) === 'WeakMap';
  const isDate = (v) => cls(v) === 'Date';
  const isRegExp = (v) => cls(v) === 'RegExp';
  const isPromise = (v) => N.promiseState(v) !== undefined;
  const isArrayBuffer = (v) => cls(v) === 'ArrayBuffer';
  const isSharedArrayBuffer = (v) => cls(v) === 'SharedArrayBuffer';
  const isAnyArrayBuffer = (v) => { const c = cls(v); return c === 'ArrayBuffer' || c === 'SharedArrayBuffer'; };
  const isDataView = (v) => cls(v) === 'DataView';
  const typedArrayNames = {
    __proto__: null, Uint8Array: 1, Uint8ClampedArray: 1, Int8Array: 1, Uint16Array: 1, Int16Array: 1,
    Uint32Array: 1, Int32Array: 1, Float16Array: 1, Float32Array: 1, Float64Array: 1, BigInt64Array: 1,
    BigUint64Array: 1,
  };
  const isTypedArray = (v) => typedArrayNames[cls(v)] === 1;
  const isArgumentsObject = (v) => cls(v) === 'Arguments';
  const isMapIterator = (v) => cls(v) === 'Map Iterator';
  const isSetIterator = (v) => cls(v) === 'Set Iterator';
  const isNumberObject = (v) => cls(v) === 'Number';
  const isStringObject = (v) => cls(v) === 'String';
  const isBooleanObject = (v) => cls(v) === 'Boolean';
  const isBigIntObject = (v) => cls(v) === 'BigInt';
  const isSymbolObject = (v) => cls(v) === 'Symbol';
  const isBoxedPrimitive = (v) => {
    const c = cls(v);
    return c === 'Number' || c === 'String' || c === 'Boolean' || c === 'BigInt' || c === 'Symbol';
  };
  const isError = (v) => isNativeError(v) || v instanceof Error;
  const isAsyncFunction = (f) => {
    const c = cls(f);
    return c === 'AsyncFunction' || c === 'AsyncGeneratorFunction';
  };
  const isGeneratorFunction = (f) => {
    const c = cls(f);
    return c === 'GeneratorFunction' || c === 'AsyncGeneratorFunction';
  };

  // ---- util.inspect ---------------------------------------------------
  const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');

  const inspectDefaultOptions = {
    showHidden: false,
    depth: 2,
    colors: false,
    customInspect: true,
    showProxy: false,
    maxArrayLength: 100,
    maxStringLength: 10000,
    breakLength: 80,
    compact: 3,
    sorted: false,
    getters: false,
    numericSeparator: false,
  };

  const kObjectType = 0;
  const kArrayType = 1;
  const kArrayExtrasType = 2;

  const strEscapeSequencesRegExp = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const strEscapeSequencesReplacer = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const strEscapeSequencesRegExpSingle = /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  const strEscapeSequencesReplacerSingle = /[\x00-\x1f\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  const keyStrRegExp = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
  const numberRegExp = /^(0|[1-9][0-9]*)$/;
  const classRegExp = /^(\s+[^(]*?)\s*{/;
  const stripCommentsRegExp = /(\/\/.*?\n)|(\/\*(.|\n)*?\*\/)/g;

  // Escaped control characters (plus the single quote and the backslash).
  const meta = [];
  for (let i = 0; i < 0xa0; i++) meta.push('');
  for (let i = 0; i < 0x20; i++) meta[i] = '\\x' + (i < 16 ? '0' : '') + i.toString(16).toUpperCase();
  meta[8] = '\\b'; meta[9] = '\\t'; meta[10] = '\\n'; meta[12] = '\\f'; meta[13] = '\\r';
  meta[0x27] = "\\'";
  meta[0x5c] = '\\\\';
  for (let i = 0x7f; i < 0xa0; i++) meta[i] = '\\x' + i.toString(16).toUpperCase();

  const escapeFn = (str) => {
    const c = str.charCodeAt(0);
    return c < meta.length ? meta[c] : `\\u${c.toString(16)}`;
  };

  function addQuotes(str, quotes) {
    if (quotes === -1) return `"${str}"`;
    if (quotes === -2) return `\`${str}\``;
    return `'${str}'`;
  }

  // Escape a string and quote it the way node does: single quotes unless
  // the string contains one, then double quotes, then backticks.
  function strEscape(str) {
    let escapeTest = strEscapeSequencesRegExp;
    let escapeReplace = strEscapeSequencesReplacer;
    let singleQuote = 39;
    if (str.includes("'")) {
      if (!str.includes('"')) {
        singleQuote = -1;
      } else if (!str.includes('`') && !str.includes('${')) {
        singleQuote = -2;
      }
      if (singleQuote !== 39) {
        escapeTest = strEscapeSequencesRegExpSingle;
        escapeReplace = strEscapeSequencesReplacerSingle;
      }
    }
    if (str.length < 5000 && escapeTest.exec(str) === null) return addQuotes(str, singleQuote);
    if (str.length > 100) {
      str = str.replace(escapeReplace, escapeFn);
      return addQuotes(str, singleQuote);
    }
    let result = '';
    let last = 0;
    for (let i = 0; i < str.length; i++) {
      const point = str.charCodeAt(i);
      if (point === singleQuote || point === 92 || point < 32 || (point > 126 && point < 160)) {
        if (last === i) result += meta[point];
        else result += `${str.slice(last, i)}${meta[point]}`;
        last = i + 1;
      } else if (point >= 0xd800 && point <= 0xdfff) {
        if (point <= 0xdbff && i + 1 < str.length) {
          const point2 = str.charCodeAt(i + 1);
          if (point2 >= 0xdc00 && point2 <= 0xdfff) {
            i++;
            continue;
          }
        }
        result += `${str.slice(last, i)}\\u${point.toString(16)}`;
        last = i + 1;
      }
    }
    if (last !== str.length) result += str.slice(last);
    return addQuotes(result, singleQuote);
  }

  function stylizeNoColor(str) {
    return str;
  }

  // Width of a string in terminal columns (node's JS fallback).
  function isFullWidthCodePoint(code) {
    return code >= 0x1100 && (
      code <= 0x115f || code === 0x2329 || code === 0x232a ||
      (code >= 0x2e80 && code <= 0x3247 && code !== 0x303f) ||
      (code >= 0x3250 && code <= 0x4dbf) ||
      (code >= 0x4e00 && code <= 0xa4c6) ||
      (code >= 0xa960 && code <= 0xa97c) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe10 && code <= 0xfe19) ||
      (code >= 0xfe30 && code <= 0xfe6b) ||
      (code >= 0xff01 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x1b000 && code <= 0x1b001) ||
      (code >= 0x1f200 && code <= 0x1f251) ||
      (code >= 0x1f300 && code <= 0x1f64f) ||
      (code >= 0x20000 && code <= 0x3fffd));
  }
  function isZeroWidthCodePoint(code) {
    return code <= 0x1F || (code >= 0x7F && code <= 0x9F) || (code >= 0x300 && code <= 0x36F) ||
      (code >= 0x200B && code <= 0x200F) || (code >= 0x20D0 && code <= 0x20FF) ||
      (code >= 0xFE00 && code <= 0xFE0F) || (code >= 0xFE20 && code <= 0xFE2F) ||
      (code >= 0xE0100 && code <= 0xE01EF);
  }
  function getStringWidth(str) {
    let width = 0;
    for (let i = 0; i < str.length; i++) {
      const code = str.charCodeAt(i);
      if (code >= 127) {
        const rest = str.slice(i).normalize('NFC');
        for (const ch of rest) {
          const cp = ch.codePointAt(0);
          if (isFullWidthCodePoint(cp)) width += 2;
          else if (!isZeroWidthCodePoint(cp)) width++;
        }
        break;
      }
      width += code >= 32 ? 1 : 0;
    }
    return width;
  }

  function inspect(value, opts) {
    const ctx = {
      budget: {},
      indentationLvl: 0,
      seen: [],
      currentDepth: 0,
      stylize: stylizeNoColor,
      showHidden: inspectDefaultOptions.showHidden,
      depth: inspectDefaultOptions.depth,
      colors: inspectDefaultOptions.colors,
      customInspect: inspectDefaultOptions.customInspect,
      showProxy: inspectDefaultOptions.showProxy,
      maxArrayLength: inspectDefaultOptions.maxArrayLength,
      maxStringLength: inspectDefaultOptions.maxStringLength,
      breakLength: inspectDefaultOptions.breakLength,
      compact: inspectDefaultOptions.compact,
      sorted: inspectDefaultOptions.sorted,
      getters: inspectDefaultOptions.getters,
      numericSeparator: inspectDefaultOptions.numericSeparator,
    };
    if (arguments.length > 1) {
      // Legacy signature inspect(value, showHidden, depth, colors)
      if (arguments.length > 2) {
        if (arguments[2] !== undefined) ctx.depth = arguments[2];
        if (arguments.length > 3 && arguments[3] !== undefined) ctx.colors = arguments[3];
      }
      if (typeof opts === 'boolean') {
        ctx.showHidden = opts;
      } else if (opts) {
        for (const key of ObjectKeys(opts)) {
          if (hasOwn(inspectDefaultOptions, key) || key === 'stylize') ctx[key] = opts[key];
          else if (ctx.userOptions === undefined) ctx.userOptions = opts;
        }
      }
    }
    if (ctx.colors) ctx.stylize = stylizeWithColor;
    if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
    if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
    return formatValue(ctx, value, 0);
  }
  inspect.custom = customInspectSymbol;
  Object.defineProperty(inspect, 'defaultOptions', {
    get() { return inspectDefaultOptions; },
    set(options) { Object.assign(inspectDefaultOptions, options); },
  });
  inspect.colors = Object.assign(Object.create(null), {
    reset: [0, 0], bold: [1, 22], dim: [2, 22], italic: [3, 23], underline: [4, 24], blink: [5, 25],
    inverse: [7, 27], hidden: [8, 28], strikethrough: [9, 29], doubleunderline: [21, 24],
    black: [30, 39], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39],
    magenta: [35, 39], cyan: [36, 39], white: [37, 39], bgBlack: [40, 49], bgRed: [41, 49],
    bgGreen: [42, 49], bgYellow: [43, 49], bgBlue: [44, 49], bgMagenta: [45, 49], bgCyan: [46, 49],
    bgWhite: [47, 49], framed: [51, 54], overlined: [53, 55], gray: [90, 39], redBright: [91, 39],
    greenBright: [92, 39], yellowBright: [93, 39], blueBright: [94, 39], magentaBright: [95, 39],
    cyanBright: [96, 39], whiteBright: [97, 39],
  });
  inspect.styles = Object.assign(Object.create(null), {
    special: 'cyan', number: 'yellow', bigint: 'yellow', boolean: 'yellow', undefined: 'grey',
    null: 'bold', string: 'green', symbol: 'green', date: 'magenta', regexp: 'red', module: 'underline',
  });
  function stylizeWithColor(str, styleType) {
    const style = inspect.styles[styleType];
    if (style !== undefined) {
      const color = inspect.colors[style === 'grey' ? 'gray' : style];
      if (color !== undefined) return `\u001b[${color[0]}m${str}\u001b[${color[1]}m`;
    }
    return str;
  }

  function getUserOptions(ctx, isCrossContext) {
    const ret = {
      stylize: ctx.stylize,
      showHidden: ctx.showHidden,
      depth: ctx.depth,
      colors: ctx.colors,
      customInspect: ctx.customInspect,
      showProxy: ctx.showProxy,
      maxArrayLength: ctx.maxArrayLength,
      maxStringLength: ctx.maxStringLength,
      breakLength: ctx.breakLength,
      compact: ctx.compact,
      sorted: ctx.sorted,
      getters: ctx.getters,
      numericSeparator: ctx.numericSeparator,
      ...ctx.userOptions,
    };
    if (isCrossContext) {
      Object.setPrototypeOf(ret, null);
      for (const key of ObjectKeys(ret)) {
        if ((typeof ret[key] === 'object' || typeof ret[key] === 'function') && ret[key] !== null) delete ret[key];
      }
      ret.stylize = (value, flavour) => {
        let stylized;
        try { stylized = `${ctx.stylize(value, flavour)}`; } catch { /* ignore */ }
        if (typeof stylized !== 'string') return value;
        return stylized;
      };
    }
    return ret;
  }

  function formatValue(ctx, value, recurseTimes, typedArray) {
    if (typeof value !== 'object' && typeof value !== 'function') {
      return formatPrimitive(ctx.stylize, value, ctx);
    }
    if (value === null) return ctx.stylize('null', 'null');

    const context = value;
    const proxy = N.proxyDetails(value);
    if (proxy !== undefined) {
      if (proxy[0] === null || proxy[0] === undefined) return ctx.stylize('<Revoked Proxy>', 'special');
      if (ctx.showProxy) return formatProxy(ctx, proxy, recurseTimes);
      value = proxy[0];
      // a proxy of a proxy: node unwraps all levels
      let p;
      while ((p = N.proxyDetails(value)) !== undefined) {
        if (p[0] === null || p[0] === undefined) return ctx.stylize('<Revoked Proxy>', 'special');
        value = p[0];
      }
    }

    if (ctx.customInspect) {
      let maybeCustom;
      try { maybeCustom = value[customInspectSymbol]; } catch (e) { throw e; }
      if (typeof maybeCustom === 'function' && maybeCustom !== inspect &&
          !(value.constructor && value.constructor.prototype === value)) {
        const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
        const isCrossContext = proxy !== undefined;
        const ret = maybeCustom.call(context, depth, getUserOptions(ctx, isCrossContext), inspect);
        if (ret !== context) {
          if (typeof ret !== 'string') return formatValue(ctx, ret, recurseTimes);
          return ret.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
        }
      }
    }

    if (ctx.seen.includes(value)) {
      let index = 1;
      if (ctx.circular === undefined) {
        ctx.circular = new Map();
        ctx.circular.set(value, index);
      } else {
        index = ctx.circular.get(value);
        if (index === undefined) {
          index = ctx.circular.size + 1;
          ctx.circular.set(value, index);
        }
      }
      return ctx.stylize(`[Circular *${index}]`, 'special');
    }
    return formatRaw(ctx, value, recurseTimes, typedArray);
  }

  function formatProxy(ctx, proxy, recurseTimes) {
    if (recurseTimes > ctx.depth && ctx.depth !== null) return ctx.stylize('Proxy [Array]', 'special');
    recurseTimes += 1;
    ctx.indentationLvl += 2;
    const res = [formatValue(ctx, proxy[0], recurseTimes), formatValue(ctx, proxy[1], recurseTimes)];
    ctx.indentationLvl -= 2;
    return reduceToSingleString(ctx, res, '', ['Proxy [', ']'], kArrayExtrasType, recurseTimes);
  }

  function getPrefix(constructor, tag, fallback, size = '') {
    if (constructor === null) {
      if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
      return `[${fallback}${size}: null prototype] `;
    }
    if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
    return `${constructor}${size} `;
  }

  // node: the capitalised own names of globalThis at start-up. Several of
  // ours are created lazily, so the list is spelled out (as in node 20).
  let builtInObjectsSet;
  const builtInObjects = {
    has(name) {
      if (!builtInObjectsSet) {
        builtInObjectsSet = { __proto__: null };
        for (const n of ['Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'Date',
          'Promise', 'RegExp', 'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError',
          'SyntaxError', 'TypeError', 'URIError', 'JSON', 'Math', 'Intl', 'ArrayBuffer', 'Atomics', 'Uint8Array',
          'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
          'Uint8ClampedArray', 'BigUint64Array', 'BigInt64Array', 'DataView', 'Map', 'BigInt', 'Set', 'WeakMap',
          'WeakSet', 'Proxy', 'Reflect', 'FinalizationRegistry', 'WeakRef', 'SharedArrayBuffer',
          'WebAssembly']) builtInObjectsSet[n] = true;
      }
      return builtInObjectsSet[name] === true;
    },
  };

  function isInstanceof(object, proto) {
    try {
      return object instanceof proto;
    } catch {
      return false;
    }
  }

  function getConstructorName(obj, ctx, recurseTimes, protoProps) {
    let firstProto;
    const tmp = obj;
    while (obj) {
      const descriptor = ObjectGetOwnPropertyDescriptor(obj, 'constructor');
      if (descriptor !== undefined && typeof descriptor.value === 'function' && descriptor.value.name !== '' &&
          isInstanceof(tmp, descriptor.value)) {
        if (protoProps !== undefined && (firstProto !== obj || !builtInObjects.has(descriptor.value.name))) {
          addPrototypeProperties(ctx, tmp, firstProto || tmp, recurseTimes, protoProps);
        }
        return String(descriptor.value.name);
      }
      obj = ObjectGetPrototypeOf(obj);
      if (firstProto === undefined) firstProto = obj;
    }
    if (firstProto === null) return null;
    const res = internalGetConstructorName(tmp);
    if (recurseTimes > ctx.depth && ctx.depth !== null) return `${res} <Complex prototype>`;
    const protoConstr = getConstructorName(firstProto, ctx, recurseTimes + 1, protoProps);
    if (protoConstr === null) {
      return `${res} <${inspect(firstProto, { ...ctx, customInspect: false, depth: -1 })}>`;
    }
    return `${res} <${protoConstr}>`;
  }

  function internalGetConstructorName(v) {
    const c = className(v);
    if (c === undefined) return 'Object';
    if (c === 'Arguments') return 'Object';
    return c;
  }

  // showHidden: list the prototype's own properties for user classes.
  function addPrototypeProperties(ctx, main, obj, recurseTimes, output) {
    let depth = 0;
    let keys;
    let keySet;
    do {
      if (depth !== 0 || main === obj) {
        obj = ObjectGetPrototypeOf(obj);
        if (obj === null) return;
        const descriptor = ObjectGetOwnPropertyDescriptor(obj, 'constructor');
        if (descriptor !== undefined && typeof descriptor.value === 'function' &&
            builtInObjects.has(descriptor.value.name)) {
          return;
        }
      }
      if (depth === 0) {
        keySet = new Set();
      } else {
        keys.forEach((key) => keySet.add(key));
      }
      keys = Reflect.ownKeys(obj);
      ctx.seen.push(main);
      for (const key of keys) {
        if (key === 'constructor' || hasOwn(main, key) || (depth !== 0 && keySet.has(key))) continue;
        const desc = ObjectGetOwnPropertyDescriptor(obj, key);
        if (typeof desc.value === 'function') continue;
        const value = formatProperty(ctx, obj, recurseTimes, key, kObjectType, desc, main);
        if (ctx.colors) output.push(`\u001b[2m${value}\u001b[22m`);
        else output.push(value);
      }
      ctx.seen.pop();
    } while (++depth !== 3);
  }

  function getKeys(value, showHidden) {
    let keys;
    const symbols = ObjectGetOwnPropertySymbols(value);
    if (showHidden) {
      keys = ObjectGetOwnPropertyNames(value);
      if (symbols.length !== 0) keys.push(...symbols);
    } else {
      keys = ObjectKeys(value);
      if (symbols.length !== 0) {
        for (const s of symbols) if (propertyIsEnumerable(value, s)) keys.push(s);
      }
    }
    return keys;
  }

  function getOwnNonIndexProperties(value, showHidden) {
    const keys = N.nonIndexKeys(value, showHidden);
    if (!showHidden) return keys;
    // strings first then symbols, like node's filter
    return keys;
  }

  function getCtxName(constructor, tag, fallback) {
    return getPrefix(constructor, tag, fallback);
  }

  function formatRaw(ctx, value, recurseTimes, typedArray) {
    let keys;
    let protoProps;
    if (ctx.showHidden && (recurseTimes <= ctx.depth || ctx.depth === null)) protoProps = [];

    const constructor = getConstructorName(value, ctx, recurseTimes, protoProps);
    if (protoProps !== undefined && protoProps.length === 0) protoProps = undefined;

    let tag = value[Symbol.toStringTag];
    if (typeof tag !== 'string' ||
        (tag !== '' && (ctx.showHidden ? hasOwn : propertyIsEnumerable)(value, Symbol.toStringTag))) {
      tag = '';
    }
    let base = '';
    let formatter = getEmptyFormatArray;
    let braces;
    let noIterator = true;
    let i = 0;
    const filter = ctx.showHidden;
    let extrasType = kObjectType;

    if (Symbol.iterator in value || constructor === null) {
      noIterator = false;
      if (ArrayIsArray(value)) {
        const prefix = (constructor !== 'Array' || tag !== '') ?
          getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
        keys = getOwnNonIndexProperties(value, filter);
        braces = [`${prefix}[`, ']'];
        if (value.length === 0 && keys.length === 0 && protoProps === undefined) return `${braces[0]}]`;
        extrasType = kArrayExtrasType;
        formatter = formatArray;
      } else if (isSet(value)) {
        const size = setSize.call(value);
        const prefix = getPrefix(constructor, tag, 'Set', `(${size})`);
        keys = getKeys(value, ctx.showHidden);
        formatter = constructor !== null ? formatSet.bind(null, value) : formatSet.bind(null, SetPrototypeValues.call(value));
        if (size === 0 && keys.length === 0 && protoProps === undefined) return `${prefix}{}`;
        braces = [`${prefix}{`, '}'];
      } else if (isMap(value)) {
        const size = mapSize.call(value);
        const prefix = getPrefix(constructor, tag, 'Map', `(${size})`);
        keys = getKeys(value, ctx.showHidden);
        formatter = constructor !== null ? formatMap.bind(null, value) : formatMap.bind(null, MapPrototypeEntries.call(value));
        if (size === 0 && keys.length === 0 && protoProps === undefined) return `${prefix}{}`;
        braces = [`${prefix}{`, '}'];
      } else if (isTypedArray(value)) {
        keys = getOwnNonIndexProperties(value, filter);
        let bound = value;
        let fallback = '';
        if (constructor === null) {
          fallback = typedArrayTag.call(value);
          bound = new globalThis[fallback](value);
        }
        const size = typedArrayLength.call(value);
        const prefix = getPrefix(constructor, tag, fallback, `(${size})`);
        braces = [`${prefix}[`, ']'];
        if (value.length === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
        formatter = formatTypedArray.bind(null, bound, size);
        extrasType = kArrayExtrasType;
      } else if (isMapIterator(value)) {
        keys = getKeys(value, ctx.showHidden);
        braces = getIteratorBraces('Map', tag);
        formatter = formatIterator.bind(null, braces);
      } else if (isSetIterator(value)) {
        keys = getKeys(value, ctx.showHidden);
        braces = getIteratorBraces('Set', tag);
        formatter = formatIterator.bind(null, braces);
      } else {
        noIterator = true;
      }
    }
    if (noIterator) {
      keys = getKeys(value, ctx.showHidden);
      braces = ['{', '}'];
      if (constructor === 'Object') {
        if (isArgumentsObject(value)) {
          braces[0] = '[Arguments] {';
        } else if (tag !== '') {
          braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
        }
        if (keys.length === 0 && protoProps === undefined) return `${braces[0]}}`;
      } else if (typeof value === 'function') {
        base = getFunctionBase(value, constructor, tag);
        if (keys.length === 0 && protoProps === undefined) return ctx.stylize(base, 'special');
      } else if (isRegExp(value)) {
        base = RegExpPrototypeToString.call(constructor !== null ? value : new RegExp(value));
        const prefix = getPrefix(constructor, tag, 'RegExp');
        if (prefix !== 'RegExp ') base = `${prefix}${base}`;
        if ((keys.length === 0 && protoProps === undefined) || (recurseTimes > ctx.depth && ctx.depth !== null)) {
          return ctx.stylize(base, 'regexp');
        }
      } else if (isDate(value)) {
        if (Number.isNaN(getDateP().getTime.call(value))) {
          base = getDateP().toString.call(value);
        } else {
          base = getDateP().toISOString.call(value);
        }
        const prefix = getPrefix(constructor, tag, 'Date');
        if (prefix !== 'Date ') base = `${prefix}${base}`;
        if (keys.length === 0 && protoProps === undefined) return ctx.stylize(base, 'date');
      } else if (isError(value)) {
        base = formatError(value, constructor, tag, ctx, keys);
        if (keys.length === 0 && protoProps === undefined) return base;
      } else if (isAnyArrayBuffer(value)) {
        const arrayType = isArrayBuffer(value) ? 'ArrayBuffer' : 'SharedArrayBuffer';
        const prefix = getPrefix(constructor, tag, arrayType);
        if (typedArray === undefined) {
          formatter = formatArrayBuffer;
        } else if (keys.length === 0 && protoProps === undefined) {
          return prefix + `{ byteLength: ${formatNumber(ctx.stylize, value.byteLength, false)} }`;
        }
        braces[0] = `${prefix}{`;
        keys.unshift('byteLength');
      } else if (isDataView(value)) {
        braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
        keys.unshift('byteLength', 'byteOffset', 'buffer');
      } else if (isPromise(value)) {
        braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
        formatter = formatPromise;
      } else if (isWeakSet(value)) {
        braces[0] = `${getPrefix(constructor, tag, 'WeakSet')}{`;
        formatter = formatWeakCollection;
      } else if (isWeakMap(value)) {
        braces[0] = `${getPrefix(constructor, tag, 'WeakMap')}{`;
        formatter = formatWeakCollection;
      } else if (isBoxedPrimitive(value)) {
        base = getBoxedBase(value, ctx, keys, constructor, tag);
        if (keys.length === 0 && protoProps === undefined) return base;
      } else {
        if (keys.length === 0 && protoProps === undefined) {
          return `${getCtxName(constructor, tag, 'Object')}{}`;
        }
        braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      }
    }

    if (recurseTimes > ctx.depth && ctx.depth !== null) {
      let constructorName = getCtxName(constructor, tag, 'Object').slice(0, -1);
      if (constructor !== null) constructorName = `[${constructorName}]`;
      return ctx.stylize(constructorName, 'special');
    }
    recurseTimes += 1;

    ctx.seen.push(value);
    ctx.currentDepth = recurseTimes;
    let output;
    const indentationLvl = ctx.indentationLvl;
    try {
      output = formatter(ctx, value, recurseTimes);
      for (i = 0; i < keys.length; i++) {
        output.push(formatProperty(ctx, value, recurseTimes, keys[i], extrasType));
      }
      if (protoProps !== undefined) output.push(...protoProps);
    } catch (err) {
      const constructorName = getCtxName(constructor, tag, 'Object').slice(0, -1);
      return handleMaxCallStackSize(ctx, err, constructorName, indentationLvl);
    }
    if (ctx.circular !== undefined) {
      const index = ctx.circular.get(value);
      if (index !== undefined) {
        const reference = ctx.stylize(`<ref *${index}>`, 'special');
        if (ctx.compact !== true) {
          base = base === '' ? reference : `${reference} ${base}`;
        } else {
          braces[0] = `${reference} ${braces[0]}`;
        }
      }
    }
    ctx.seen.pop();

    if (ctx.sorted) {
      const comparator = ctx.sorted === true ? undefined : ctx.sorted;
      if (extrasType === kObjectType) {
        output = output.sort(comparator);
      } else if (keys.length > 1) {
        const sorted = output.slice(output.length - keys.length).sort(comparator);
        output.splice(output.length - keys.length, keys.length, ...sorted);
      }
    }

    const res = reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
    const budget = ctx.budget[ctx.indentationLvl] || 0;
    const newLength = budget + res.length;
    ctx.budget[ctx.indentationLvl] = newLength;
    if (newLength > 2 ** 27) ctx.depth = -1;
    return res;
  }

  function getIteratorBraces(type, tag) {
    if (tag !== `${type} Iterator`) {
      if (tag !== '') tag += '] [';
      tag += `${type} Iterator`;
    }
    return [`[${tag}] {`, '}'];
  }

  function handleMaxCallStackSize(ctx, err, constructorName, indentationLvl) {
    if (err instanceof RangeError && /call stack/.test(err.message)) {
      ctx.seen.pop();
      ctx.indentationLvl = indentationLvl;
      return ctx.stylize(`[${constructorName}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`,
        'special');
    }
    throw err;
  }

  function getBoxedBase(value, ctx, keys, constructor, tag) {
    let fn;
    let type;
    if (isNumberObject(value)) {
      fn = NumberPrototypeValueOf;
      type = 'Number';
    } else if (isStringObject(value)) {
      fn = StringPrototypeValueOf;
      type = 'String';
      keys.splice(0, value.length);
    } else if (isBooleanObject(value)) {
      fn = BooleanPrototypeValueOf;
      type = 'Boolean';
    } else if (isBigIntObject(value)) {
      fn = BigIntPrototypeValueOf;
      type = 'BigInt';
    } else {
      fn = SymbolPrototypeValueOf;
      type = 'Symbol';
    }
    let base = `[${type}`;
    if (type !== constructor) {
      if (constructor === null) base += ' (null prototype)';
      else base += ` (${constructor})`;
    }
    base += `: ${formatPrimitive(stylizeNoColor, fn.call(value), ctx)}]`;
    if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
    if (keys.length !== 0 || ctx.stylize === stylizeNoColor) return base;
    return ctx.stylize(base, type.toLowerCase());
  }

  function getClassBase(value, constructor, tag) {
    const hasName = hasOwn(value, 'name');
    const name = (hasName && value.name) || '(anonymous)';
    let base = `class ${name}`;
    if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    if (constructor !== null) {
      const superName = ObjectGetPrototypeOf(value).name;
      if (superName) base += ` extends ${superName}`;
    } else {
      base += ' extends [null prototype]';
    }
    return `[${base}]`;
  }

  function getFunctionBase(value, constructor, tag) {
    const stringified = FunctionPrototypeToString.call(value);
    if (stringified.startsWith('class') && stringified.endsWith('}')) {
      const slice = stringified.slice(5, -1);
      const bracketIndex = slice.indexOf('{');
      if (bracketIndex !== -1 &&
          (!slice.slice(0, bracketIndex).includes('(') ||
            classRegExp.exec(slice.replace(stripCommentsRegExp, '')) !== null)) {
        return getClassBase(value, constructor, tag);
      }
    }
    let type = 'Function';
    if (isGeneratorFunction(value)) type = `Generator${type}`;
    if (isAsyncFunction(value)) type = `Async${type}`;
    let base = `[${type}`;
    if (constructor === null) base += ' (null prototype)';
    if (value.name === '') base += ' (anonymous)';
    else base += `: ${value.name}`;
    base += ']';
    if (constructor !== type && constructor !== null) base += ` ${constructor}`;
    if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
    return base;
  }

  // The engine's err.stack has only the "    at ..." frames; V8 puts the
  // "Name: message" header first. Rebuild that.
  function getStackString(error) {
    let stack = error.stack;
    if (typeof stack === 'string' && stack !== '') {
      if (stack.startsWith('    at ')) {
        const header = safeErrorToString(error);
        stack = `${header}\n${stack}`;
      }
      if (stack.endsWith('\n')) stack = stack.slice(0, -1);
      return stack;
    }
    if (stack) return String(stack);
    return safeErrorToString(error);
  }

  function safeErrorToString(error) {
    try {
      return ErrorPrototypeToString.call(error);
    } catch {
      return 'Error';
    }
  }

  function removeDuplicateErrorKeys(ctx, keys, err, stack) {
    if (!ctx.showHidden && keys.length !== 0) {
      for (const name of ['name', 'message', 'stack']) {
        const index = keys.indexOf(name);
        if (index !== -1 && (typeof err[name] !== 'string' || stack.includes(err[name]))) {
          keys.splice(index, 1);
        }
      }
    }
  }

  function improveStack(stack, constructor, name, tag) {
    let len = name.length;
    if (constructor === null ||
        (name.endsWith('Error') && stack.startsWith(name) &&
          (stack.length === len || stack[len] === ':' || stack[len] === '\n'))) {
      let fallback = 'Error';
      if (constructor === null) {
        const start = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n\s+at)/.exec(stack) ||
          /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
        fallback = (start && start[1]) || '';
        len = fallback.length;
        fallback = fallback || 'Error';
      }
      const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
      if (name !== prefix) {
        if (prefix.includes(name)) {
          if (len === 0) stack = `${prefix}: ${stack}`;
          else stack = `${prefix}${stack.slice(len)}`;
        } else {
          stack = `${prefix} [${name}]${stack.slice(len)}`;
        }
      }
    }
    return stack;
  }

  function formatError(err, constructor, tag, ctx, keys) {
    const name = err.name != null ? String(err.name) : 'Error';
    let stack = getStackString(err);
    removeDuplicateErrorKeys(ctx, keys, err, stack);
    if ('cause' in err && (keys.length === 0 || !keys.includes('cause'))) keys.push('cause');
    if (ArrayIsArray(err.errors) && (keys.length === 0 || !keys.includes('errors'))) keys.push('errors');
    stack = improveStack(stack, constructor, name, tag);

    let pos = (err.message && stack.indexOf(err.message)) || -1;
    if (pos !== -1) pos += err.message.length;
    const stackStart = stack.indexOf('\n    at', pos);
    if (stackStart === -1) {
      stack = `[${stack}]`;
    } else {
      let newStack = stack.slice(0, stackStart);
      const lines = stack.slice(stackStart + 1).split('\n');
      newStack += `\n${lines.join('\n')}`;
      stack = newStack;
    }
    if (ctx.indentationLvl !== 0) {
      const indentation = ' '.repeat(ctx.indentationLvl);
      stack = stack.replace(/\n/g, `\n${indentation}`);
    }
    return stack;
  }

  function formatNumber(fn, number, numericSeparator) {
    if (!numericSeparator) {
      if (ObjectIs(number, -0)) return fn('-0', 'number');
      return fn(`${number}`, 'number');
    }
    const integer = Math.trunc(number);
    const string = String(integer);
    if (integer === number) {
      if (!Number.isFinite(number) || string.includes('e')) return fn(string, 'number');
      return fn(`${addNumericSeparator(string)}`, 'number');
    }
    if (Number.isNaN(number)) return fn(string, 'number');
    return fn(`${addNumericSeparator(string)}.${addNumericSeparatorEnd(String(number).slice(string.length + 1))}`,
      'number');
  }
  function addNumericSeparator(integerString) {
    let result = '';
    let i = integerString.length;
    const start = integerString.startsWith('-') ? 1 : 0;
    for (; i >= start + 4; i -= 3) result = `_${integerString.slice(i - 3, i)}${result}`;
    return i === integerString.length ? integerString : `${integerString.slice(0, i)}${result}`;
  }
  function addNumericSeparatorEnd(integerString) {
    let result = '';
    let i = 0;
    for (; i < integerString.length - 3; i += 3) result += `${integerString.slice(i, i + 3)}_`;
    return i === 0 ? integerString : `${result}${integerString.slice(i)}`;
  }

  function formatBigInt(fn, bigint, numericSeparator) {
    const string = String(bigint);
    if (!numericSeparator) return fn(`${string}n`, 'bigint');
    return fn(`${addNumericSeparator(string)}n`, 'bigint');
  }

  function formatPrimitive(fn, value, ctx) {
    if (typeof value === 'string') {
      let trailer = '';
      if (value.length > ctx.maxStringLength) {
        const remaining = value.length - ctx.maxStringLength;
        value = value.slice(0, ctx.maxStringLength);
        trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
      }
      if (ctx.compact !== true && value.length > 16 && value.length > ctx.breakLength - ctx.indentationLvl - 4) {
        return value.split(/(?<=\n)/).map((line) => fn(strEscape(line), 'string'))
          .join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer;
      }
      return fn(strEscape(value), 'string') + trailer;
    }
    if (typeof value === 'number') return formatNumber(fn, value, ctx.numericSeparator);
    if (typeof value === 'bigint') return formatBigInt(fn, value, ctx.numericSeparator);
    if (typeof value === 'boolean') return fn(`${value}`, 'boolean');
    if (typeof value === 'undefined') return fn('undefined', 'undefined');
    return fn(SymbolPrototypeToString.call(value), 'symbol');
  }

  function getEmptyFormatArray() {
    return [];
  }

  function formatArrayBuffer(ctx, value) {
    let buffer;
    try {
      buffer = new Uint8Array(value);
    } catch {
      return [ctx.stylize('(detached)', 'special')];
    }
    const n = MathMin(ctx.maxArrayLength, buffer.length);
    let hex = '';
    for (let i = 0; i < n; i++) {
      if (i) hex += ' ';
      hex += (buffer[i] < 16 ? '0' : '') + buffer[i].toString(16);
    }
    let str = hex;
    const remaining = buffer.length - ctx.maxArrayLength;
    if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
    return [`${ctx.stylize('[Uint8Contents]', 'special')}: <${str}>`];
  }

  function remainingText(remaining) {
    return `... ${remaining} more item${remaining > 1 ? 's' : ''}`;
  }

  function formatArray(ctx, value, recurseTimes) {
    const valLen = value.length;
    const len = MathMin(MathMax(0, ctx.maxArrayLength), valLen);
    const remaining = valLen - len;
    const output = [];
    for (let i = 0; i < len; i++) {
      if (!hasOwn(value, i)) return formatSpecialArray(ctx, value, recurseTimes, len, output, i);
      output.push(formatProperty(ctx, value, recurseTimes, i, kArrayType));
    }
    if (remaining > 0) output.push(remainingText(remaining));
    return output;
  }

  function formatSpecialArray(ctx, value, recurseTimes, maxLength, output, i) {
    const keys = ObjectKeys(value);
    let index = i;
    for (; i < keys.length && output.length < maxLength; i++) {
      const key = keys[i];
      const tmp = +key;
      if (tmp > 2 ** 32 - 2) break;
      if (`${index}` !== key) {
        if (numberRegExp.exec(key) === null) break;
        const emptyItems = tmp - index;
        const ending = emptyItems > 1 ? 's' : '';
        const message = `<${emptyItems} empty item${ending}>`;
        output.push(ctx.stylize(message, 'undefined'));
        index = tmp;
        if (output.length === maxLength) break;
      }
      output.push(formatProperty(ctx, value, recurseTimes, key, kArrayType));
      index++;
    }
    const remaining = value.length - index;
    if (output.length !== maxLength) {
      if (remaining > 0) {
        const ending = remaining > 1 ? 's' : '';
        output.push(ctx.stylize(`<${remaining} empty item${ending}>`, 'undefined'));
      }
    } else if (remaining > 0) {
      output.push(remainingText(remaining));
    }
    return output;
  }

  function formatTypedArray(value, length, ctx, ignored, recurseTimes) {
    const maxLength = MathMin(MathMax(0, ctx.maxArrayLength), length);
    const remaining = value.length - maxLength;
    const output = new Array(maxLength);
    const elementFormatter = value.length > 0 && typeof value[0] === 'number' ? formatNumber : formatBigInt;
    for (let i = 0; i < maxLength; ++i) output[i] = elementFormatter(ctx.stylize, value[i], ctx.numericSeparator);
    if (remaining > 0) output[maxLength] = remainingText(remaining);
    if (ctx.showHidden) {
      ctx.indentationLvl += 2;
      for (const key of ['BYTES_PER_ELEMENT', 'length', 'byteLength', 'byteOffset', 'buffer']) {
        const str = formatValue(ctx, value[key], recurseTimes, true);
        output.push(`[${key}]: ${str}`);
      }
      ctx.indentationLvl -= 2;
    }
    return output;
  }

  function formatSet(value, ctx, ignored, recurseTimes) {
    const length = isSet(value) ? setSize.call(value) : Infinity;
    const maxLength = MathMin(MathMax(0, ctx.maxArrayLength), length);
    const remaining = length - maxLength;
    const output = [];
    ctx.indentationLvl += 2;
    let i = 0;
    for (const v of value) {
      if (i >= maxLength) break;
      output.push(formatValue(ctx, v, recurseTimes));
      i++;
    }
    if (remaining > 0 && remaining !== Infinity) output.push(remainingText(remaining));
    ctx.indentationLvl -= 2;
    return output;
  }

  function formatMap(value, ctx, ignored, recurseTimes) {
    const length = isMap(value) ? mapSize.call(value) : Infinity;
    const maxLength = MathMin(MathMax(0, ctx.maxArrayLength), length);
    const remaining = length - maxLength;
    const output = [];
    ctx.indentationLvl += 2;
    let i = 0;
    for (const { 0: k, 1: v } of value) {
      if (i >= maxLength) break;
      output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
      i++;
    }
    if (remaining > 0 && remaining !== Infinity) output.push(remainingText(remaining));
    ctx.indentationLvl -= 2;
    return output;
  }

  // Map/Set iterators show the entries they have not produced yet.
  function formatIterator(braces, ctx, value, recurseTimes) {
    const preview = N.iteratorPreview(value) || [false];
    const isKeyValue = preview[0];
    const entries = preview.slice(1);
    if (isKeyValue) {
      braces[0] = braces[0].replace(/ Iterator] {$/, ' Entries] {');
      return formatMapIterInner(ctx, recurseTimes, entries);
    }
    return formatSetIterInner(ctx, recurseTimes, entries);
  }

  function formatSetIterInner(ctx, recurseTimes, entries) {
    const maxLength = MathMin(MathMax(ctx.maxArrayLength, 0), entries.length);
    const output = new Array(maxLength);
    ctx.indentationLvl += 2;
    for (let i = 0; i < maxLength; i++) output[i] = formatValue(ctx, entries[i], recurseTimes);
    ctx.indentationLvl -= 2;
    const remaining = entries.length - maxLength;
    if (remaining > 0) output.push(remainingText(remaining));
    return output;
  }

  function formatMapIterInner(ctx, recurseTimes, entries) {
    const len = entries.length / 2;
    const remaining = len - MathMax(ctx.maxArrayLength, 0);
    const maxLength = MathMin(MathMax(ctx.maxArrayLength, 0), len);
    const output = new Array(maxLength);
    ctx.indentationLvl += 2;
    for (let i = 0; i < maxLength; i++) {
      const pos = i * 2;
      const res = [formatValue(ctx, entries[pos], recurseTimes), formatValue(ctx, entries[pos + 1], recurseTimes)];
      output[i] = reduceToSingleString(ctx, res, '', ['[', ']'], kArrayExtrasType, recurseTimes);
    }
    ctx.indentationLvl -= 2;
    if (remaining > 0) output.push(remainingText(remaining));
    return output;
  }

  function formatWeakCollection(ctx) {
    return [ctx.stylize('<items unknown>', 'special')];
  }

  function formatPromise(ctx, value, recurseTimes) {
    let output;
    const [state, result] = N.promiseState(value);
    if (state === 0) {
      output = [ctx.stylize('<pending>', 'special')];
    } else {
      ctx.indentationLvl += 2;
      const str = formatValue(ctx, result, recurseTimes);
      ctx.indentationLvl -= 2;
      output = [state === 2 ? `${ctx.stylize('<rejected>', 'special')} ${str}` : str];
    }
    return output;
  }

  function formatProperty(ctx, value, recurseTimes, key, type, desc, original = value) {
    let name, str;
    let extra = ' ';
    desc = desc || ObjectGetOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
    if (desc.value !== undefined) {
      const diff = (ctx.compact !== true || type !== kObjectType) ? 2 : 3;
      ctx.indentationLvl += diff;
      str = formatValue(ctx, desc.value, recurseTimes);
      if (diff === 3 && ctx.breakLength < getStringWidth(str)) {
        extra = `\n${' '.repeat(ctx.indentationLvl)}`;
      }
      ctx.indentationLvl -= diff;
    } else if (desc.get !== undefined) {
      const label = desc.set !== undefined ? 'Getter/Setter' : 'Getter';
      const s = ctx.stylize;
      const sp = 'special';
      if (ctx.getters && (ctx.getters === true ||
            (ctx.getters === 'get' && desc.set === undefined) ||
            (ctx.getters === 'set' && desc.set !== undefined))) {
        try {
          const tmp = desc.get.call(original);
          ctx.indentationLvl += 2;
          if (tmp === null) {
            str = `${s(`[${label}:`, sp)} ${s('null', 'null')}${s(']', sp)}`;
          } else if (typeof tmp === 'object') {
            str = `${s(`[${label}]`, sp)} ${formatValue(ctx, tmp, recurseTimes)}`;
          } else {
            const primitive = formatPrimitive(s, tmp, ctx);
            str = `${s(`[${label}:`, sp)} ${primitive}${s(']', sp)}`;
          }
          ctx.indentationLvl -= 2;
        } catch (err) {
          const message = `<Inspection threw (${err.message})>`;
          str = `${s(`[${label}:`, sp)} ${message}${s(']', sp)}`;
        }
      } else {
        str = ctx.stylize(`[${label}]`, sp);
      }
    } else if (desc.set !== undefined) {
      str = ctx.stylize('[Setter]', 'special');
    } else {
      str = ctx.stylize('undefined', 'undefined');
    }
    if (type === kArrayType) return str;
    if (typeof key === 'symbol') {
      const tmp = SymbolPrototypeToString.call(key).replace(strEscapeSequencesReplacer, escapeFn);
      name = `[${ctx.stylize(tmp, 'symbol')}]`;
    } else if (key === '__proto__') {
      name = "['__proto__']";
    } else if (desc.enumerable === false) {
      const tmp = String(key).replace(strEscapeSequencesReplacer, escapeFn);
      name = `[${tmp}]`;
    } else if (keyStrRegExp.exec(key) !== null) {
      name = ctx.stylize(key, 'name');
    } else {
      name = ctx.stylize(strEscape(String(key)), 'string');
    }
    return `${name}:${extra}${str}`;
  }

  function groupArrayElements(ctx, output, value) {
    let totalLength = 0;
    let maxLength = 0;
    let i = 0;
    let outputLength = output.length;
    if (ctx.maxArrayLength < output.length) outputLength--;
    const separatorSpace = 2;
    const dataLen = new Array(outputLength);
    for (; i < outputLength; i++) {
      const len = getStringWidth(output[i]);
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength &&
        (totalLength / actualMax > 5 || maxLength <= 6)) {
      const approxCharHeights = 2.5;
      const averageBias = MathSqrt(actualMax - totalLength / output.length);
      const biasedMax = MathMax(actualMax - 3 - averageBias, 1);
      const columns = MathMin(
        MathRound(MathSqrt(approxCharHeights * biasedMax * outputLength) / biasedMax),
        MathFloor((ctx.breakLength - ctx.indentationLvl) / actualMax),
        ctx.compact * 4,
        15,
      );
      if (columns <= 1) return output;
      const tmp = [];
      const maxLineLength = [];
      for (let i = 0; i < columns; i++) {
        let lineLength = 0;
        for (let j = i; j < output.length; j += columns) {
          if (dataLen[j] > lineLength) lineLength = dataLen[j];
        }
        maxLineLength.push(lineLength + separatorSpace);
      }
      let order = String.prototype.padStart;
      if (value !== undefined) {
        for (let i = 0; i < output.length; i++) {
          if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
            order = String.prototype.padEnd;
            break;
          }
        }
      }
      for (let i = 0; i < outputLength; i += columns) {
        const max = MathMin(i + columns, outputLength);
        let str = '';
        let j = i;
        for (; j < max - 1; j++) {
          const padding = maxLineLength[j - i] + output[j].length - dataLen[j];
          str += order.call(`${output[j]}, `, padding, ' ');
        }
        if (order === String.prototype.padStart) {
          const padding = maxLineLength[j - i] + output[j].length - dataLen[j] - separatorSpace;
          str += output[j].padStart(padding, ' ');
        } else {
          str += output[j];
        }
        tmp.push(str);
      }
      if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
      output = tmp;
    }
    return output;
  }

  function isBelowBreakLength(ctx, output, start, base) {
    let totalLength = output.length + start;
    if (totalLength + output.length > ctx.breakLength) return false;
    for (let i = 0; i < output.length; i++) {
      totalLength += output[i].length;
      if (totalLength > ctx.breakLength) return false;
    }
    return base === '' || !base.includes('\n');
  }

  function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
    if (ctx.compact !== true) {
      if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
        const entries = output.length;
        if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
        if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
          const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
          if (isBelowBreakLength(ctx, output, start, base)) {
            const joinedOutput = output.join(', ');
            if (!joinedOutput.includes('\n')) {
              return `${base ? `${base} ` : ''}${braces[0]} ${joinedOutput}` + ` ${braces[1]}`;
            }
          }
        }
      }
      const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
      return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
    }
    if (isBelowBreakLength(ctx, output, 0, base)) {
      return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ` + braces[1];
    }
    const indentation = ' '.repeat(ctx.indentationLvl);
    const ln = base === '' && braces[0].length === 1 ? ' ' : `${base ? ` ${base}` : ''}\n${indentation}  `;
    return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
  }

  // ---- util.format ------------------------------------------------------
  function hasBuiltInToString(value) {
    const proxy = N.proxyDetails(value);
    if (proxy !== undefined) {
      if (proxy[0] === null || proxy[0] === undefined) return true;
      value = proxy[0];
    }
    if (typeof value.toString !== 'function') return true;
    if (hasOwn(value, 'toString')) return false;
    let pointer = value;
    do {
      pointer = ObjectGetPrototypeOf(pointer);
    } while (!hasOwn(pointer, 'toString'));
    const descriptor = ObjectGetOwnPropertyDescriptor(pointer, 'constructor');
    return descriptor !== undefined && typeof descriptor.value === 'function' &&
      builtInObjects.has(descriptor.value.name);
  }

  function tryStringify(arg) {
    try {
      return JSONStringify(arg);
    } catch (err) {
      if (err instanceof TypeError && /circular/i.test(err.message)) return '[Circular]';
      throw err;
    }
  }

  function formatWithOptionsInternal(inspectOptions, args) {
    const first = args[0];
    let a = 0;
    let str = '';
    let join = '';
    if (typeof first === 'string') {
      if (args.length === 1) return first;
      let tempStr;
      let lastPos = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (first.charCodeAt(i) === 37) { // '%'
          const nextChar = first.charCodeAt(++i);
          if (a + 1 !== args.length) {
            switch (nextChar) {
              case 115: { // 's'
                const tempArg = args[++a];
                if (typeof tempArg === 'number') {
                  tempStr = formatNumber(stylizeNoColor, tempArg, false);
                } else if (typeof tempArg === 'bigint') {
                  tempStr = formatBigInt(stylizeNoColor, tempArg, false);
                } else if (typeof tempArg !== 'object' || tempArg === null || !hasBuiltInToString(tempArg)) {
                  tempStr = String(tempArg);
                } else {
                  tempStr = inspect(tempArg, { ...inspectOptions, depth: 0, colors: false, compact: 3 });
                }
                break;
              }
              case 106: // 'j'
                tempStr = tryStringify(args[++a]);
                break;
              case 100: { // 'd'
                const tempNum = args[++a];
                if (typeof tempNum === 'bigint') tempStr = formatBigInt(stylizeNoColor, tempNum, false);
                else if (typeof tempNum === 'symbol') tempStr = 'NaN';
                else tempStr = formatNumber(stylizeNoColor, Number(tempNum), false);
                break;
              }
              case 79: // 'O'
                tempStr = inspect(args[++a], inspectOptions);
                break;
              case 111: // 'o'
                tempStr = inspect(args[++a], { ...inspectOptions, showHidden: true, showProxy: true, depth: 4 });
                break;
              case 105: { // 'i'
                const tempInteger = args[++a];
                if (typeof tempInteger === 'bigint') tempStr = formatBigInt(stylizeNoColor, tempInteger, false);
                else if (typeof tempInteger === 'symbol') tempStr = 'NaN';
                else tempStr = formatNumber(stylizeNoColor, Number.parseInt(tempInteger), false);
                break;
              }
              case 102: { // 'f'
                const tempFloat = args[++a];
                if (typeof tempFloat === 'symbol') tempStr = 'NaN';
                else tempStr = formatNumber(stylizeNoColor, Number.parseFloat(tempFloat), false);
                break;
              }
              case 99: // 'c'
                a += 1;
                tempStr = '';
                break;
              case 37: // '%'
                str += first.slice(lastPos, i);
                lastPos = i + 1;
                continue;
              default:
                continue;
            }
            if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
            str += tempStr;
            lastPos = i + 1;
          } else if (nextChar === 37) {
            str += first.slice(lastPos, i);
            lastPos = i + 1;
          }
        }
      }
      if (lastPos !== 0) {
        a++;
        join = ' ';
        if (lastPos < first.length) str += first.slice(lastPos);
      }
    }
    while (a < args.length) {
      const value = args[a];
      str += join;
      str += typeof value !== 'string' ? inspect(value, inspectOptions) : value;
      join = ' ';
      a++;
    }
    return str;
  }

  function format(...args) {
    return formatWithOptionsInternal(undefined, args);
  }

  function formatWithOptions(inspectOptions, ...args) {
    if (typeof inspectOptions !== 'object' || inspectOptions === null) {
      throw new TypeError('The "inspectOptions" argument must be of type object.');
    }
    return formatWithOptionsInternal(inspectOptions, args);
  }

  // ---- process events -------------------------------------------------
  // event name -> [{ fn, once }] (a plain object: Map is created lazily)
  let processListeners = { __proto__: null };
  const listenersOf = (name) => processListeners[typeof name === 'symbol' ? name : String(name)];

  function addListener(name, fn, once) {
    if (typeof fn !== 'function') {
      const e = new TypeError(`The "listener" argument must be of type function. Received ${inspect(fn)}`);
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    let list = listenersOf(name);
    if (!list) processListeners[typeof name === 'symbol' ? name : String(name)] = list = [];
    list.push({ fn, once });
  }
  function process_on(name, fn) {
    addListener(name, fn, false);
    return this;
  }
  function process_once(name, fn) {
    addListener(name, fn, true);
    return this;
  }
  function process_off(name, fn) {
    const list = listenersOf(name);
    if (list) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].fn === fn) {
          list.splice(i, 1);
          break;
        }
      }
    }
    return this;
  }
  function process_removeAllListeners(name) {
    if (name === undefined) processListeners = { __proto__: null };
    else delete processListeners[typeof name === 'symbol' ? name : String(name)];
    return this;
  }
  function emit(name, ...args) {
    const list = listenersOf(name);
    if (!list || list.length === 0) return false;
    for (const l of [...list]) {
      if (l.once) {
        const idx = list.indexOf(l);
        if (idx !== -1) list.splice(idx, 1);
      }
      l.fn.apply(N.process(), args);
    }
    return true;
  }
  function process_emit(name, ...args) {
    return emit(name, ...args);
  }
  function process_listeners(name) {
    return (listenersOf(name) || []).map((l) => l.fn);
  }
  function process_listenerCount(name) {
    return (listenersOf(name) || []).length;
  }
  const warned = { __proto__: null };
  function process_emitWarning(warning, type, code) {
    if (typeof type === 'object' && type !== null) {
      code = type.code;
      type = type.type;
    }
    let name = typeof type === 'string' ? type : 'Warning';
    let msg = warning;
    if (isError(warning)) {
      name = warning.name;
      msg = warning.message;
    }
    if (name === 'DeprecationWarning' && code && warned[code]) return;
    if (code) warned[code] = true;
    if (!emit('warning', Object.assign(new Error(String(msg)), { name }))) {
      N.writeLine(2, `(node:1) ${code ? `[${code}] ` : ''}${name}: ${msg}\n(Use \`node --trace-warnings ...\` to show where the warning was created)`);
    }
  }

  // Called by the runner for an exception nobody caught. Returns true if a
  // process.on('uncaughtException') listener took it.
  function dispatchUncaught(err, kind) {
    const origin = kind === 1 ? 'unhandledRejection' : 'uncaughtException';
    if (process_listenerCount('uncaughtExceptionMonitor')) emit('uncaughtExceptionMonitor', err, origin);
    return emit('uncaughtException', err, origin);
  }
  function dispatchUnhandledRejection(reason, promise) {
    return emit('unhandledRejection', reason, promise);
  }
  function dispatchExit(code) {
    const p = N.process();
    if (p.exitCode === undefined) p.exitCode = code;
    emit('exit', p.exitCode === undefined ? code : p.exitCode);
  }

  // Text of the report for an uncaught exception (stderr).
  function formatUncaught(err, kind) {
    if (kind === 1 && !isError(err)) {
      let r;
      try {
        r = inspect(err);
      } catch {
        r = String(err);
      }
      return 'Uncaught [UnhandledPromiseRejection: This error originated either by throwing inside of an async ' +
        'function without a catch block, or by rejecting a promise which was not handled with .catch(). The ' +
        `promise rejected with the reason "${r}".] {\n  code: 'ERR_UNHANDLED_REJECTION'\n}\n`;
    }
    let s;
    try {
      s = inspect(err);
    } catch {
      try {
        s = String(err);
      } catch {
        s = 'exception';
      }
    }
    return `Uncaught ${s}\n`;
  }

  return {
    format,
    formatWithOptions,
    inspect,
    formatUncaught,
    dispatchUncaught,
    dispatchUnhandledRejection,
    dispatchExit,
    process_on,
    process_once,
    process_off,
    process_emit,
    process_listeners,
    process_listenerCount,
    process_removeAllListeners,
    process_emitWarning,
    // shared with lib-extras.js
    core: {
      inspect, format, formatWithOptions, formatWithOptionsInternal, getStringWidth, customInspectSymbol,
      process_emitWarning, hasOwn, propertyIsEnumerable, cls, isNativeError, isError, isDate, isRegExp, isMap,
      isSet, isWeakMap, isWeakSet, isPromise, isArrayBuffer, isSharedArrayBuffer, isAnyArrayBuffer, isDataView,
      isTypedArray, isArgumentsObject, isMapIterator, isSetIterator, isNumberObject, isStringObject,
      isBooleanObject, isBigIntObject, isSymbolObject, isBoxedPrimitive, isAsyncFunction, isGeneratorFunction,
      DatePrototypeGetTime, MapPrototypeEntries, SetPrototypeValues, typedArrayTag, typedArrayLength,
    },
  };
});
