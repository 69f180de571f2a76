import { describe, expect, it } from 'vitest';
import { UIError, toUIError } from './model';

describe('toUIError', () => {
  it('keeps what the Go ErrorFormatter sends', () => {
    const e = toUIError({ code: 'mfa_required', message: 'Enter the code.', field: 'totp' });
    expect(e).toBeInstanceOf(UIError);
    expect(e).toMatchObject({ code: 'mfa_required', message: 'Enter the code.', field: 'totp' });
  });
  it('parses a JSON string and wraps plain errors and strings', () => {
    expect(toUIError('{"code":"offline","message":"No network."}')).toMatchObject({ code: 'offline', message: 'No network.' });
    expect(toUIError(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(toUIError('plain text')).toMatchObject({ code: 'internal', message: 'plain text' });
    expect(toUIError(undefined)).toMatchObject({ code: 'internal' });
    expect(toUIError({ code: 'not_found' }).message).toBe('not_found');
  });
});
