import { describe, expect, it } from 'vitest';
import { firstRow } from '../web/src/csv.js';
import { clock, duration } from '../web/src/format.js';

describe('the web app’s own helpers', () => {
  it('reads a CSV header: quotes, doubled quotes, commas inside quotes, a byte-order mark, CRLF', () => {
    expect(firstRow('\uFEFFId,"Last, First","Say ""hi""",Email\r\n1,2,3,4')).toEqual(['Id', 'Last, First', 'Say "hi"', 'Email']);
    expect(firstRow('One')).toEqual(['One']);
    expect(firstRow('a,,b\n')).toEqual(['a', '', 'b']);
  });

  it('writes countdowns and durations the way the queue shows them', () => {
    expect(clock(3_723_000)).toBe('1:02:03');
    expect(clock(-59_000)).toBe('0:00:59');
    expect(duration(45_000)).toBe('45 s');
    expect(duration(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(duration(50 * 3_600_000)).toBe('2 days 2 h');
  });
});
