import { describe, expect, it } from 'vitest';
import { describeDevice } from '../src/pages/client/device';
import { errorView, retryText, STRINGS } from '../src/pages/strings';

// The pages' catalog and the rules that pick its sentences: the server's
// answers to form posts and the browser script both use them.

describe('retryText', () => {
  it.each([
    [undefined, 'Too many attempts. Try again later.'],
    [30, 'Too many attempts. Try again in about a minute.'],
    [60, 'Too many attempts. Try again in about a minute.'],
    [61, 'Too many attempts. Try again in about 2 minutes.'],
    [900, 'Too many attempts. Try again in about 15 minutes.'],
    [3600, 'Too many attempts. Try again in about an hour.'],
    [7200, 'Too many attempts. Try again in about 2 hours.'],
  ])('%s seconds → %s', (seconds, text) => {
    expect(retryText(seconds)).toBe(text);
  });
});

describe('errorView', () => {
  it.each([
    ['email must be a valid email address', 'email', STRINGS.invalidEmail],
    ['email is required', 'email', STRINGS.required_email],
    ['newPassword must be at least 8 characters', 'password', 'Password must be at least 8 characters.'],
    ['name must be at most 100 characters', 'name', 'Name must be at most 100 characters.'],
    ['name must not contain control characters', 'name', 'Name must not contain control characters.'],
  ])('puts "%s" beside the %s field', (message, field, text) => {
    expect(errorView({ code: 'VALIDATION_ERROR', message })).toMatchObject({ field, text });
  });

  it('keeps every field of a multi-field validation error', () => {
    const view = errorView({ code: 'VALIDATION_ERROR', message: 'email is required; password is required' });
    expect(view).toMatchObject({ field: 'email', others: [{ field: 'password', text: STRINGS.required_password }] });
  });

  it('shows an unknown field or code as the API said it, and never an empty sentence', () => {
    expect(errorView({ code: 'VALIDATION_ERROR', message: 'callbackURL must be at most 2048 characters' })).toEqual({
      text: 'callbackURL must be at most 2048 characters',
    });
    expect(errorView({ code: 'SOMETHING_NEW', message: 'Said by the API.' }).text).toBe('Said by the API.');
    expect(errorView(null).text).toBe(STRINGS.GENERIC);
    expect(errorView({ code: 'constructor' }).text).toBe(STRINGS.GENERIC);
  });
});

describe('describeDevice', () => {
  it.each([
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome on Linux',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge on Windows',
    ],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Windows'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari on iOS',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      'Safari on macOS',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Chrome on Android',
    ],
    ['curl/8.5.0', 'An unknown browser or app'],
    [null, 'An unknown browser or app'],
  ])('%s → %s', (agent, text) => {
    expect(describeDevice(agent)).toBe(text);
  });
});
