import { describe, expect, it } from 'vitest';
import { cacheAge, count, countFormat, plural, relativeTime } from './format';

const now = Date.parse('2026-11-27T08:00:00Z');
const at = (ms: number) => new Date(now + ms).toISOString();

describe('relativeTime', () => {
  it('reads past and future times', () => {
    expect(relativeTime(at(0), now)).toBe('just now');
    expect(relativeTime(at(-5 * 60_000), now)).toBe('5 min ago');
    expect(relativeTime(at(-3 * 3_600_000), now)).toBe('3 h ago');
    expect(relativeTime(at(-2 * 86_400_000), now)).toBe('2 d ago');
    expect(relativeTime(at(8 * 3_600_000), now, 'any')).toBe('in 8 h');
    expect(relativeTime(null, now)).toBe('—');
    expect(relativeTime('0001-01-01T00:00:00Z', now)).toBe('—');
  });
  it('never shows a past-only time as future (clock skew, a clock that ticks every 30 s)', () => {
    expect(relativeTime(at(20_000), now)).toBe('just now');
    expect(relativeTime(at(5 * 60_000), now)).toBe('just now');
  });
});

describe('cacheAge', () => {
  it('says how old the cache is', () => {
    expect(cacheAge(at(-20_000), now)).toBe('under 1 min ago');
    expect(cacheAge(at(-12 * 60_000 - 5_000), now)).toBe('12 min ago');
    expect(cacheAge(at(-125 * 60_000), now)).toBe('2 h 5 min ago');
    expect(cacheAge(null, now)).toBe('at an unknown time');
  });
});

describe('count', () => {
  it('groups the digits of a million even under the C/POSIX locale, which groups none', () => {
    expect(new Intl.NumberFormat('en-US-u-va-posix').format(1_000_001)).toBe('1000001');
    expect(countFormat('en-US-u-va-posix').format(1_000_001)).toBe('1,000,001');
  });
  it('keeps a locale that groups its own way', () => {
    expect(countFormat('de').format(1_000_001)).toBe('1.000.001');
    expect(countFormat('en').format(999)).toBe('999');
  });
  it('is what plural and the views show', () => {
    expect(plural(1_000_001, 'session')).toBe(`${count(1_000_001)} sessions`);
    expect(count(1_000_001)).toMatch(/^1\D000\D001$/);
  });
});
