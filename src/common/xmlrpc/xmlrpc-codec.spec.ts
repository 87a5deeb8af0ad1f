import { execFileSync } from 'node:child_process';
import { decodeMethodCall, decodeMethodResponse, encodeFault, encodeMethodCall, encodeMethodResponse } from './xmlrpc-codec';
import { XmlRpcEncodeError, XmlRpcParseError } from './xmlrpc-errors';
import { XmlRpcFault } from './xmlrpc-fault';

const roundTrip = (value: unknown) => decodeMethodResponse(encodeMethodResponse(value));
const response = (valueXml: string) =>
  decodeMethodResponse(`<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>${valueXml}</value>\n</param>\n</params>\n</methodResponse>\n`);

describe('xmlrpc-codec', () => {
  describe(encodeMethodCall.name, () => {
    it('round-trips the method name and every parameter type', () => {
      const params = [
        'text',
        42,
        -7,
        2 ** 40,
        1.5,
        true,
        false,
        null,
        [1, [2, 'three'], { four: 4 }],
        { nested: { deeper: { list: [null, 'x'] } }, empty: {} },
        [],
        '',
      ];
      const sut = decodeMethodCall(encodeMethodCall('join_room', params));
      expect(sut).toEqual({ method: 'join_room', params });
    });

    it('encodes integers as <int>, big integers as <i8> and fractions as <double>', () => {
      const xml = encodeMethodCall('m', [1, 2 ** 31, 0.25]);
      expect(xml).toContain('<int>1</int>');
      expect(xml).toContain('<i8>2147483648</i8>');
      expect(xml).toContain('<double>0.25</double>');
    });

    it('refuses characters XML 1.0 cannot carry instead of producing invalid XML', () => {
      expect(() => encodeMethodCall('forward_message', ['room', 'bell \x07'])).toThrow(XmlRpcEncodeError);
      expect(() => encodeMethodCall('m', ['lone \uD800 surrogate'])).toThrow(/U\+D800/);
      expect(() => encodeMethodCall('m', [{ ['k\x00']: 1 }])).toThrow(XmlRpcEncodeError);
    });

    it('refuses values XML-RPC has no type for', () => {
      expect(() => encodeMethodCall('m', [NaN])).toThrow(XmlRpcEncodeError);
      expect(() => encodeMethodCall('m', [() => 1])).toThrow(XmlRpcEncodeError);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      expect(() => encodeMethodCall('m', [cycle])).toThrow(/nested deeper/);
    });
  });

  describe('guards of the writer', () => {
    it('keeps text with "<" and two "]]>" as one string (never CDATA: a serializer that splits CDATA once lets the second "]]>" end it early)', () => {
      const hostile = '<x]]>]]></string></value></param><param><value><string>injected';
      const xml = encodeMethodCall('forward_message', ['room', hostile]);
      expect(xml).not.toContain('CDATA');
      expect(decodeMethodCall(xml).params).toEqual(['room', hostile]);
    });

    it('keeps "\\r" next to markup (CDATA would hand it to end-of-line normalisation)', () => {
      expect(roundTrip('<b>\r\n</b> & \r')).toBe('<b>\r\n</b> & \r');
    });

    it('writes safe integers beyond 32 bits and bigints as <i8>, not <int>', () => {
      const xml = encodeMethodCall('m', [-(2 ** 31) - 1, 2 ** 53 - 1, 2n ** 62n]);
      expect(xml).toContain('<i8>-2147483649</i8>');
      expect(xml).toContain('<i8>9007199254740991</i8>');
      expect(xml).toContain('<i8>4611686018427387904</i8>');
      expect(() => encodeMethodCall('m', [2n ** 63n])).toThrow(/64-bit range/);
    });

    it('refuses Infinity instead of writing <double>Infinity</double>', () => {
      expect(() => encodeMethodCall('m', [[1, Infinity]])).toThrow(XmlRpcEncodeError);
    });

    it('refuses a symbol and a Map instead of writing an empty <value/> (read back as "")', () => {
      expect(() => encodeMethodResponse({ a: Symbol('s') })).toThrow(XmlRpcEncodeError);
      expect(() => encodeMethodResponse(new Map())).toThrow(/Map/);
    });

    it('refuses a lone surrogate in a struct member name and in the method name', () => {
      expect(() => encodeMethodResponse({ ['k\uDC00']: 1 })).toThrow(/U\+DC00/);
      expect(() => encodeMethodCall('m\uD800', [])).toThrow(XmlRpcEncodeError);
    });

    it('writes a member named __proto__ as a member', () => {
      const value = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as object;
      const sut = roundTrip(value) as Record<string, unknown>;
      expect(Object.keys(sut)).toEqual(['__proto__', 'y']);
      expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
    });

    it('writes an empty string as <string></string>, so a string costs its text plus a fixed tag', () => {
      expect(encodeMethodResponse('')).toContain('<value><string></string></value>');
      expect(roundTrip(['', { e: '' }])).toEqual(['', { e: '' }]);
    });

    it('writes a fault code outside 32 bits as -32500', () => {
      expect(() => decodeMethodResponse(encodeFault(2 ** 40, 'x'))).toThrow(expect.objectContaining({ code: -32500 }));
    });
  });

  describe(encodeMethodResponse.name, () => {
    it.each([
      ['a string', 'hello'],
      ['unicode (emoji, CJK, accents)', '😀 聊天室 café'],
      ['markup characters', '<b>a & b</b> > c ]]> "q" \'a\''],
      ['line endings and tabs', 'a\r\nb\rc\n\td'],
      ['an empty string', ''],
      ['zero', 0],
      ['a negative int', -2147483648],
      ['a double', -3.125],
      ['true', true],
      ['false', false],
      ['nil', null],
      ['an array of mixed values', [1, 'two', null, [true]]],
      ['a struct with nested structs and arrays', { room: { id: 'r1', members: ['a', 'b'], meta: { n: 1 } } }],
    ])('round-trips %s', (_, value) => {
      expect(roundTrip(value)).toEqual(value);
    });

    it('omits undefined struct members and sends undefined elsewhere as nil', () => {
      expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 });
      expect(Object.keys(roundTrip({ a: 1, b: undefined }) as object)).toEqual(['a']);
      expect(roundTrip(undefined)).toBeNull();
      expect(roundTrip([undefined])).toEqual([null]);
    });

    it('escapes markup so the text cannot break out of its element', () => {
      const xml = encodeMethodResponse('</string></value><value><int>1</int>');
      expect(xml).toContain('&lt;/string&gt;&lt;/value&gt;');
    });

    it('round-trips Buffers as base64', () => {
      expect(roundTrip(Buffer.from([0, 1, 2, 255]))).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(encodeMethodResponse(Buffer.from('hi'))).toContain('<base64>aGk=</base64>');
    });

    it('sends a Date as dateTime.iso8601 and decodes it as its string', () => {
      const xml = encodeMethodResponse(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
      expect(xml).toContain('<dateTime.iso8601>20260102T03:04:05</dateTime.iso8601>');
      expect(decodeMethodResponse(xml)).toBe('20260102T03:04:05');
    });
  });

  describe(decodeMethodResponse.name, () => {
    it('reads untyped values as strings, keeping their whitespace', () => {
      expect(response('plain text')).toBe('plain text');
      expect(response('  spaced  ')).toBe('  spaced  ');
      expect(response('')).toBe('');
    });

    it('reads i4, i8, ex:nil and padded values', () => {
      expect(response('<i4>-12</i4>')).toBe(-12);
      expect(response('<i8>9007199254740991</i8>')).toBe(Number.MAX_SAFE_INTEGER);
      expect(response('<int> 7 </int>')).toBe(7);
      expect(response('<boolean>1</boolean>')).toBe(true);
      expect(response('<ex:nil/>')).toBeNull();
      expect(response('<double>1e3</double>')).toBe(1000);
    });

    it('reads what Python xmlrpc.client sends, with entities, CDATA and comments', () => {
      const xml = `<?xml version='1.0'?>\n<!-- hi --><methodResponse><params><param><value><struct>
<member><name>status</name><value><string>ok &amp; &#x1F600; &#233;</string></value></member>
<member><name>raw</name><value><string><![CDATA[<not markup>]]></string></value></member>
<member><name>none</name><value><nil/></value></member>
</struct></value></param></params></methodResponse>`;
      expect(decodeMethodResponse(xml)).toEqual({ status: 'ok & 😀 é', raw: '<not markup>', none: null });
    });

    it('keeps a member named __proto__ as data, not as the prototype', () => {
      const sut = response('<struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>1</value></member></struct></value></member></struct>') as Record<string, unknown>;
      expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
      expect(sut['polluted']).toBeUndefined();
      expect(Object.keys(sut)).toEqual(['__proto__']);
    });

    it('throws XmlRpcFault with the code and string of a fault response', () => {
      const act = () => decodeMethodResponse(encodeFault(-32601, 'method "x" is not supported'));
      expect(act).toThrow(XmlRpcFault);
      expect(act).toThrow(expect.objectContaining({ code: -32601, faultString: 'method "x" is not supported' }));
    });

    it('reads a Python-style fault', () => {
      const xml = `<?xml version='1.0'?>\n<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>&lt;class 'Exception'&gt;:boom</string></value></member></struct></value></fault></methodResponse>`;
      expect(() => decodeMethodResponse(xml)).toThrow(expect.objectContaining({ code: 1, faultString: "<class 'Exception'>:boom" }));
    });
  });

  describe(encodeFault.name, () => {
    it('never throws: characters XML cannot carry become U+FFFD', () => {
      const sut = decodeMethodResponse.bind(null, encodeFault(-32500, 'bad \x07 content'));
      expect(sut).toThrow(expect.objectContaining({ code: -32500, faultString: 'bad \uFFFD content' }));
    });
  });

  describe(decodeMethodCall.name, () => {
    it('reads a call without <params> as no parameters', () => {
      expect(decodeMethodCall('<methodCall><methodName>heartbeat</methodName></methodCall>')).toEqual({ method: 'heartbeat', params: [] });
    });

    it.each([
      ['an empty body', ''],
      ['plain text', 'not xml at all'],
      ['an unclosed element', '<methodCall><methodName>x</methodName>'],
      ['mismatched tags', '<methodCall><methodName>x</methodCall></methodName>'],
      ['a bare ampersand', '<methodCall><methodName>a & b</methodName></methodCall>'],
      ['an unknown entity', '<methodCall><methodName>&bogus;</methodName></methodCall>'],
      ['a DOCTYPE (entity expansion)', '<!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>&a;</methodName></methodCall>'],
      ['two root elements', '<methodCall><methodName>x</methodName></methodCall><methodCall/>'],
      ['a truncated tag', '<methodCall><methodName'],
      ['an unterminated comment', '<methodCall><!-- '],
      ['a DOCTYPE without entities', '<!DOCTYPE methodCall><methodCall><methodName>x</methodName></methodCall>'],
      ['an external entity', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><methodCall><methodName>&e;</methodName></methodCall>'],
      ['a character XML 1.0 forbids', '<methodCall><methodName>a\u0007</methodName></methodCall>'],
      ['a reference to a forbidden character', '<methodCall><methodName>&#0;</methodName></methodCall>'],
    ])('throws a parse error (-32700) for %s', (_, xml) => {
      expect(() => decodeMethodCall(xml)).toThrow(expect.objectContaining({ name: XmlRpcParseError.name, code: -32700 }));
    });

    it.each([
      ['a response instead of a call', '<methodResponse/>'],
      ['a call without methodName', '<methodCall><params/></methodCall>'],
      ['an int that is not a number', '<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>'],
      ['a boolean that is not 0/1', '<methodCall><methodName>m</methodName><params><param><value><boolean>yes</boolean></value></param></params></methodCall>'],
      ['an unknown type', '<methodCall><methodName>m</methodName><params><param><value><float>1</float></value></param></params></methodCall>'],
      ['an int with trailing garbage', '<methodCall><methodName>m</methodName><params><param><value><int>12abc</int></value></param></params></methodCall>'],
      ['an i8 beyond what a double holds exactly', '<methodCall><methodName>m</methodName><params><param><value><i8>9007199254740993</i8></value></param></params></methodCall>'],
      ['two values in one <value>', '<methodCall><methodName>m</methodName><params><param><value><int>1</int><int>2</int></value></param></params></methodCall>'],
      ['a struct member without a name', '<methodCall><methodName>m</methodName><params><param><value><struct><member><value>1</value></member></struct></value></param></params></methodCall>'],
    ])('throws an invalid-request error (-32600) for %s', (_, xml) => {
      expect(() => decodeMethodCall(xml)).toThrow(expect.objectContaining({ name: XmlRpcParseError.name, code: -32600 }));
    });

    it('accepts a byte order mark and an XML declaration', () => {
      expect(decodeMethodCall(`\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<methodCall><methodName>heartbeat</methodName></methodCall>`).method).toBe('heartbeat');
    });

    it('fails fast on deeply nested input instead of overflowing the stack', () => {
      const depth = 30_000; // about what fits in a 1 MiB body
      const xml = `<methodCall><methodName>m</methodName><params><param>${'<value><array><data>'.repeat(depth)}${'</data></array></value>'.repeat(depth)}</param></params></methodCall>`;
      expect(() => decodeMethodCall(xml)).toThrow(/nested deeper/);
    });

    it('decodes the deepest value the encoder writes (100 levels of arrays or structs) and refuses one level more', () => {
      const nest = (levels: number, wrap: (inner: unknown) => unknown) => Array.from({ length: levels }).reduce<unknown>((inner) => wrap(inner), 'core');
      for (const wrap of [(v: unknown) => [v], (v: unknown) => ({ k: v })]) {
        expect(decodeMethodCall(encodeMethodCall('m', [nest(100, wrap)])).params).toEqual([nest(100, wrap)]);
        expect(() => encodeMethodCall('m', [nest(101, wrap)])).toThrow(/nested deeper/);
        const tooDeep = encodeMethodCall('m', [nest(100, wrap)]).replace('<string>core</string>', '<array><data><value>core</value></data></array>');
        expect(() => decodeMethodCall(tooDeep)).toThrow(expect.objectContaining({ code: -32600, message: expect.stringMatching(/nested deeper/) }));
      }
    });

    it('keeps no tree past the nesting limit, yet refuses a malformed document as malformed first', () => {
      const deep = '<a>'.repeat(300_000);
      const call = (inner: string) => `<methodCall><methodName>m</methodName><params><param>${inner}</param></params></methodCall>`;
      expect(() => decodeMethodCall(call(deep + '</a>'.repeat(300_000)))).toThrow(expect.objectContaining({ code: -32600, message: expect.stringMatching(/elements nested deeper than \d+ levels/) }));
      expect(() => decodeMethodCall(call(deep))).toThrow(expect.objectContaining({ code: -32700 }));
    });

    it('parses a large hostile tag in linear time', () => {
      const started = performance.now();
      expect(() => decodeMethodCall(`<methodCall${' '.repeat(1_000_000)}x`)).toThrow(XmlRpcParseError);
      expect(performance.now() - started).toBeLessThan(2000);
    });
  });

  describe('interop with Python xmlrpc.client (a real third-party codec)', () => {
    const python = (code: string, input: string) => execFileSync('/usr/bin/python3', ['-c', `import xmlrpc.client as x, sys, json\n${code}`], { input, encoding: 'utf8', timeout: 10_000 });

    it('Python reads what we write: i8, nil, "\\r", two "]]>", empty strings and containers, unicode, base64, dateTime', () => {
      const value = { big: 2 ** 40, low: -(2 ** 31) - 1, nil: null, cr: 'a\r\nb\rc', cdata: '<x]]>]]></string>y', empty: ['', [], {}], uni: '😀 聊 é', t: true, d: 2.5, bin: Buffer.from([0, 255]), at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) };
      const out = python('v = x.loads(sys.stdin.read(), use_builtin_types=True)[0][0]\nprint(json.dumps(v, default=repr, ensure_ascii=False))', encodeMethodResponse(value));
      expect(JSON.parse(out)).toEqual({ ...value, bin: "b'\\x00\\xff'", at: 'datetime.datetime(2026, 1, 2, 3, 4, 5)' });
    });

    it('we read what Python writes, including its faults', () => {
      const call = python("sys.stdout.write(x.dumps((None, '<x]]>]]>', '', 2**31 - 1, 1.5, True, {'k': [1, {}]}, b'\\x00\\xff', 'caf\\u00e9 \\U0001F600'), 'm', allow_none=True))", '');
      expect(decodeMethodCall(call)).toEqual({ method: 'm', params: [null, '<x]]>]]>', '', 2 ** 31 - 1, 1.5, true, { k: [1, {}] }, Buffer.from([0, 255]), 'café 😀'] });
      const fault = python("sys.stdout.write(x.dumps(x.Fault(-32602, 'bad <params> & more'), methodresponse=True))", '');
      expect(() => decodeMethodResponse(fault)).toThrow(expect.objectContaining({ code: -32602, faultString: 'bad <params> & more' }));
    });
  });
});
