import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parse as parseBackend, serialize } from 'pg-protocol';
import { InvalidRequestError } from '../errors/index.ts';
import {
  backendKeyData,
  bindComplete,
  closeComplete,
  commandComplete,
  copyData,
  copyDone,
  copyOutResponse,
  dataRow,
  emptyQueryResponse,
  errorResponse,
  expandFormats,
  noData,
  noticeResponse,
  parameterDescription,
  parameterStatus,
  parseBind,
  parseCancelRequest,
  parseClose,
  parseComplete,
  parseDescribe,
  parseExecute,
  parseParse,
  parseQuery,
  portalSuspended,
  readyForQuery,
  rowDescription,
} from './pg-messages.ts';

/**
 * Golden bytes are derived by hand from the message formats page
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html): type byte, int32
 * length counting itself, body. The pg driver's own protocol module (pg-protocol) then serves as
 * an independent reader of what Veil sends and writer of what Veil reads.
 */

const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('backend messages: golden bytes', () => {
  test('messages without a body', () => {
    assert.equal(hex(emptyQueryResponse()), '4900000004');
    assert.equal(hex(parseComplete()), '3100000004');
    assert.equal(hex(bindComplete()), '3200000004');
    assert.equal(hex(closeComplete()), '3300000004');
    assert.equal(hex(noData()), '6e00000004');
    assert.equal(hex(portalSuspended()), '7300000004');
    assert.equal(hex(copyDone()), '6300000004');
  });

  test('ReadyForQuery, CommandComplete, BackendKeyData, ParameterStatus', () => {
    assert.equal(hex(readyForQuery('I')), '5a0000000549');
    assert.equal(hex(readyForQuery('T')), '5a0000000554');
    assert.equal(hex(readyForQuery('E')), '5a0000000545');
    // 'C', length 4 + 9, "SELECT 1\0"
    assert.equal(hex(commandComplete('SELECT 1')), '430000000d53454c454354203100');
    assert.equal(hex(backendKeyData(1234, 5678)), '4b0000000c000004d20000162e');
    assert.equal(hex(parameterStatus('client_encoding', 'UTF8')), `5300000019${Buffer.from('client_encoding\0UTF8\0').toString('hex')}`);
  });

  test('RowDescription and ParameterDescription', () => {
    const row = rowDescription([{ name: 'a', tableOid: 0, columnNumber: 0, typeOid: 23, typeLength: 4, typeModifier: -1, format: 0 }]);
    // 'T', length 26, 1 field: "a\0", table 0, column 0, int4 (23), typlen 4, typmod -1, text
    assert.equal(hex(row), '540000001a' + '0001' + '6100' + '00000000' + '0000' + '00000017' + '0004' + 'ffffffff' + '0000');
    const numeric = rowDescription([{ name: 'n', tableOid: 16384, columnNumber: 2, typeOid: 1700, typeLength: -1, typeModifier: (10 << 16) + 2 + 4, format: 1 }]);
    assert.equal(hex(numeric), '540000001a' + '0001' + '6e00' + '00004000' + '0002' + '000006a4' + 'ffff' + '000a0006' + '0001');
    assert.equal(hex(parameterDescription([23, 25])), '740000000e' + '0002' + '00000017' + '00000019');
    assert.equal(hex(parameterDescription([])), '74000000060000');
  });

  test('DataRow', () => {
    assert.equal(hex(dataRow(['1', null])), '440000000f' + '0002' + '0000000131' + 'ffffffff');
    assert.equal(hex(dataRow([Buffer.from([0, 1]), ''])), '4400000010' + '0002' + '000000020001' + '00000000');
    assert.equal(hex(dataRow(['é'])), '440000000c' + '0001' + '00000002c3a9');
  });

  test('ErrorResponse and NoticeResponse carry S, V, C, M and the optional D, H, P', () => {
    const error = errorResponse({ severity: 'ERROR', code: '42601', message: 'syntax error', position: 8 });
    const body = Buffer.from('SERROR\0VERROR\0C42601\0Msyntax error\0P8\0\0');
    assert.equal(hex(error), `45${(body.length + 4).toString(16).padStart(8, '0')}${hex(body)}`);
    const notice = noticeResponse({ severity: 'WARNING', code: '01000', message: 'm', detail: 'd', hint: 'h' });
    const noticeBody = Buffer.from('SWARNING\0VWARNING\0C01000\0Mm\0Dd\0Hh\0\0');
    assert.equal(hex(notice), `4e${(noticeBody.length + 4).toString(16).padStart(8, '0')}${hex(noticeBody)}`);
  });

  test('COPY messages', () => {
    assert.equal(hex(copyOutResponse(0, [0, 0])), '480000000b' + '00' + '0002' + '0000' + '0000');
    assert.equal(hex(copyData(Buffer.from('ab\n'))), '640000000761620a');
  });

  test('a NUL inside a string cannot end it early', () => {
    assert.equal(hex(commandComplete('a\0b')), `430000000a${Buffer.from('a\uFFFDb\0').toString('hex')}`);
  });
});

describe('backend messages read by the pg driver', () => {
  test('a whole exchange parses message by message', async () => {
    const stream = Buffer.concat([
      parameterStatus('server_version', '15.0'),
      backendKeyData(7, -8),
      rowDescription([
        { name: 'id', tableOid: 0, columnNumber: 0, typeOid: 20, typeLength: 8, typeModifier: -1, format: 0 },
        { name: 'naïve', tableOid: 0, columnNumber: 0, typeOid: 25, typeLength: -1, typeModifier: -1, format: 1 },
      ]),
      dataRow(['42', null]),
      commandComplete('SELECT 1'),
      noticeResponse({ severity: 'NOTICE', code: '00000', message: 'hello' }),
      errorResponse({ severity: 'FATAL', code: '28000', message: 'no', detail: 'why', hint: 'try', position: 3 }),
      parameterDescription([23]),
      copyOutResponse(0, [0]),
      copyData(Buffer.from('x\n')),
      copyDone(),
      emptyQueryResponse(),
      parseComplete(),
      bindComplete(),
      noData(),
      portalSuspended(),
      closeComplete(),
      readyForQuery('T'),
    ]);
    const messages: Record<string, unknown>[] = [];
    await parseBackend(Readable.from([stream]), (message) => messages.push(message as unknown as Record<string, unknown>));
    assert.deepEqual(
      messages.map((m) => m['name']),
      ['parameterStatus', 'backendKeyData', 'rowDescription', 'dataRow', 'commandComplete', 'notice', 'error', 'parameterDescription', 'copyOutResponse', 'copyData', 'copyDone', 'emptyQuery', 'parseComplete', 'bindComplete', 'noData', 'portalSuspended', 'closeComplete', 'readyForQuery'],
    );
    const [status, key, description, row, complete, notice, error, parameters, copyOut, copy] = messages;
    assert.equal(status?.['parameterName'], 'server_version');
    assert.equal(status?.['parameterValue'], '15.0');
    assert.equal(key?.['processID'], 7);
    assert.equal(key?.['secretKey'], -8);
    const fields = description?.['fields'] as Record<string, unknown>[];
    assert.deepEqual(
      fields.map((f) => [f['name'], f['dataTypeID'], f['dataTypeSize'], f['format']]),
      [
        ['id', 20, 8, 'text'],
        ['naïve', 25, -1, 'binary'],
      ],
    );
    assert.deepEqual(row?.['fields'], ['42', null]);
    assert.equal(complete?.['text'], 'SELECT 1');
    assert.equal(notice?.['message'], 'hello');
    assert.deepEqual([error?.['severity'], error?.['code'], error?.['message'], error?.['detail'], error?.['hint'], error?.['position']], ['FATAL', '28000', 'no', 'why', 'try', '3']);
    assert.deepEqual(parameters?.['dataTypeIDs'], [23]);
    assert.deepEqual(copyOut?.['columnTypes'], [0]);
    assert.equal((copy?.['chunk'] as Buffer).toString(), 'x\n');
    assert.equal(messages.at(-1)?.['status'], 'T');
  });
});

/** pg-protocol reuses its output buffer: keep a copy. */
const own = (buffer: Buffer): Buffer => Buffer.from(buffer);

describe('frontend messages written by the pg driver', () => {
  test('Query', () => {
    assert.equal(parseQuery(own(serialize.query('SELECT 1; -- é'))), 'SELECT 1; -- é');
    assert.equal(parseQuery(own(serialize.query(''))), '');
  });

  test('Parse', () => {
    assert.deepEqual(parseParse(own(serialize.parse({ name: 's1', text: 'SELECT $1, $2', types: [23, 4294967295] }))), {
      statement: 's1',
      query: 'SELECT $1, $2',
      parameterTypes: [23, 4294967295],
    });
    assert.deepEqual(parseParse(own(serialize.parse({ text: 'SELECT 1' }))), { statement: '', query: 'SELECT 1', parameterTypes: [] });
  });

  test('Bind', () => {
    const bind = parseBind(own(serialize.bind({ portal: 'p', statement: 's', binary: true, values: ['héllo', null, Buffer.from([0, 0, 0, 7]), ''] })));
    assert.deepEqual(bind, {
      portal: 'p',
      statement: 's',
      parameterFormats: [0, 0, 1, 0],
      parameters: [Buffer.from('héllo'), null, Buffer.from([0, 0, 0, 7]), Buffer.alloc(0)],
      resultFormats: [1],
    });
    const empty = parseBind(own(serialize.bind({})));
    assert.deepEqual(empty, { portal: '', statement: '', parameterFormats: [], parameters: [], resultFormats: [0] });
  });

  test('Bind parameters are copies, not views of the connection buffer', () => {
    const message = own(serialize.bind({ values: ['abc'] }));
    const bind = parseBind(message);
    message.fill(0);
    assert.equal(bind.parameters[0]?.toString(), 'abc');
  });

  test('Describe, Execute, Close', () => {
    assert.deepEqual(parseDescribe(own(serialize.describe({ type: 'S', name: 'stmt' }))), { kind: 'S', name: 'stmt' });
    assert.deepEqual(parseDescribe(own(serialize.describe({ type: 'P' }))), { kind: 'P', name: '' });
    assert.deepEqual(parseExecute(own(serialize.execute({ portal: 'p', rows: 100 }))), { portal: 'p', maxRows: 100 });
    assert.deepEqual(parseExecute(own(serialize.execute())), { portal: '', maxRows: 0 });
    assert.deepEqual(parseClose(own(serialize.close({ type: 'P', name: 'c' }))), { kind: 'P', name: 'c' });
  });

  test('CancelRequest', () => {
    assert.deepEqual(parseCancelRequest(own(serialize.cancel(1234, -5678))), { processId: 1234, secretKey: -5678 });
    assert.equal(parseCancelRequest(own(serialize.requestSsl())), undefined);
    assert.equal(parseCancelRequest(own(serialize.startup({ user: 'u' }))), undefined);
    assert.equal(parseCancelRequest(Buffer.alloc(16)), undefined);
  });
});

describe('malformed frontend messages', () => {
  const malformed = (work: () => unknown): void => {
    assert.throws(work, (error: unknown) => error instanceof InvalidRequestError && /^malformed \w+ message/.test(error.message));
  };
  const samples: [string, Buffer, (message: Buffer) => unknown][] = [
    ['Query', own(serialize.query('SELECT 1')), parseQuery],
    ['Parse', own(serialize.parse({ name: 's', text: 'SELECT $1', types: [23] })), parseParse],
    ['Bind', own(serialize.bind({ portal: 'p', statement: 's', values: ['1', null, Buffer.from([1])] })), parseBind],
    ['Describe', own(serialize.describe({ type: 'S', name: 's' })), parseDescribe],
    ['Execute', own(serialize.execute({ portal: 'p', rows: 5 })), parseExecute],
    ['Close', own(serialize.close({ type: 'S', name: 's' })), parseClose],
  ];

  test('every truncation, with its length fixed up or not, is refused', () => {
    for (const [, message, parse] of samples) {
      for (let size = 0; size < message.length; size++) {
        const cut = Buffer.from(message.subarray(0, size));
        malformed(() => parse(cut));
        if (size >= 5) {
          cut.writeUInt32BE(size - 1, 1);
          malformed(() => parse(cut));
        }
      }
    }
  });

  test('trailing bytes, wrong type bytes and lying counts are refused', () => {
    for (const [, message, parse] of samples) {
      const longer = Buffer.concat([message, Buffer.from([0])]);
      longer.writeUInt32BE(longer.length - 1, 1);
      malformed(() => parse(longer));
      const retyped = Buffer.from(message);
      retyped[0] = 0x58;
      malformed(() => parse(retyped));
    }
    // Bind claiming 1000 parameters, or a parameter longer than the message.
    const bind = own(serialize.bind({ values: ['abc'] }));
    const counts = Buffer.from(bind);
    counts.writeInt16BE(1000, 7); // parameter format count sits after two empty names
    malformed(() => parseBind(counts));
    const long = Buffer.from(bind);
    long.writeInt32BE(1000, 13); // the first parameter's length
    malformed(() => parseBind(long));
    const negative = Buffer.from(bind);
    negative.writeInt32BE(-2, 13);
    malformed(() => parseBind(negative));
    const describe = own(serialize.describe({ type: 'S', name: 's' }));
    describe[5] = 0x58;
    malformed(() => parseDescribe(describe));
  });

  test('strings must be valid UTF-8 and NUL-terminated', () => {
    const query = Buffer.from([0x51, 0, 0, 0, 7, 0xc3, 0x28, 0]);
    malformed(() => parseQuery(query));
    const unterminated = Buffer.from([0x51, 0, 0, 0, 6, 0x41, 0x42]);
    malformed(() => parseQuery(unterminated));
  });

  test('random bytes never throw anything but InvalidRequestError', () => {
    const parsers: ((message: Uint8Array) => unknown)[] = [parseQuery, parseParse, parseBind, parseDescribe, parseExecute, parseClose, parseCancelRequest];
    const types = [0x51, 0x50, 0x42, 0x44, 0x45, 0x43];
    const body = fc.uint8Array({ maxLength: 64 });
    // Random messages, half of them with a truthful length so that parsing gets past the header.
    const message = fc.tuple(fc.constantFrom(...types), body, fc.boolean(), fc.array(fc.constantFrom(0, 0xff, 0x7f, 0x80), { maxLength: 8 })).map(([type, bytes, truthful, salt]) => {
      const payload = Buffer.concat([Buffer.from(salt), Buffer.from(bytes)]);
      const out = Buffer.alloc(5 + payload.length);
      out[0] = type;
      out.writeUInt32BE(truthful ? payload.length + 4 : (bytes[0] ?? 0) * 97, 1);
      payload.copy(out, 5);
      return out;
    });
    fc.assert(
      fc.property(fc.oneof(message, fc.uint8Array({ maxLength: 40 })), (bytes) => {
        for (const parse of parsers) {
          try {
            parse(bytes);
          } catch (error) {
            if (!(error instanceof InvalidRequestError)) throw error;
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('structurally valid messages round-trip through the parsers', () => {
    const name = fc.string({ maxLength: 10 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(name, name, fc.array(fc.oneof(fc.constant(null), fc.string({ maxLength: 8 }).filter((s) => !s.includes('\0')), fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b))), { maxLength: 6 }), fc.boolean(), (portal, statement, values, binary) => {
        const parsed = parseBind(own(serialize.bind({ portal, statement, values, binary })));
        assert.equal(parsed.portal, portal);
        assert.equal(parsed.statement, statement);
        assert.deepEqual(
          parsed.parameters,
          values.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v))),
        );
        assert.deepEqual(parsed.resultFormats, [binary ? 1 : 0]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('expandFormats', () => {
  test('none means text, one applies to all, otherwise one per value', () => {
    assert.deepEqual(expandFormats([], 3), [0, 0, 0]);
    assert.deepEqual(expandFormats([1], 3), [1, 1, 1]);
    assert.deepEqual(expandFormats([0, 1], 2), [0, 1]);
    assert.deepEqual(expandFormats([1], 0), []);
    assert.deepEqual(expandFormats([], 0), []);
  });

  test('a wrong count or an unknown code is an InvalidRequestError', () => {
    assert.throws(() => expandFormats([0, 1], 3), InvalidRequestError);
    assert.throws(() => expandFormats([0, 0, 0], 2), InvalidRequestError);
    assert.throws(() => expandFormats([2], 1), /unsupported format code: 2/);
    assert.throws(() => expandFormats([-1, 0], 2), InvalidRequestError);
  });
});
