// "Chrome on Linux" from a User-Agent header, by a few honest rules: the
// browser families and systems most people use, checked in the order that
// tells them apart (Edge and Opera also say Chrome; Chrome also says Safari).
// Anything else is "an unknown browser or app" rather than a guess.

import { t } from '../strings';

const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdgA?\//, 'Edge'],
  [/\bOPR\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/(?:\bChrome|\bCriOS|\bChromium|HeadlessChrome)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/\bWindows NT\b/, 'Windows'],
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

const first = (list: Array<[RegExp, string]>, agent: string) => list.find(([pattern]) => pattern.test(agent))?.[1];

export function describeDevice(userAgent: string | null | undefined): string {
  const agent = userAgent ?? '';
  const browser = first(BROWSERS, agent);
  const system = first(SYSTEMS, agent);
  if (browser && system) return t('deviceBrowserOnOs', { browser, os: system });
  return browser ?? t('deviceUnknown');
}

/** "just now", "5 minutes ago", "yesterday": the catalog's "just now", then the page's language. */
export function timeAgo(date: Date, locale: string, now = Date.now()): string {
  const format = new Intl.RelativeTimeFormat(locale || 'en', { numeric: 'auto' });
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return t('justNow');
  const steps: Array<[number, Intl.RelativeTimeFormatUnit]> = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [7, 'day'],
    [4.35, 'week'],
    [12, 'month'],
  ];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return format.format(Math.round(value), unit);
    value /= size;
  }
  return format.format(Math.round(value), 'year');
}
