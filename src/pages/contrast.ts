// WCAG 2.x contrast between two sRGB colours, for the configured accent
// colour (src/config.ts) and the checks of our own palette (test/pages.test.ts).
// Imports nothing.

/** The text on accent-coloured buttons, in both themes once an accent is configured. */
export const ACCENT_TEXT_COLOUR = '#ffffff';

/** WCAG 1.4.3: normal-size text. */
export const MIN_TEXT_CONTRAST = 4.5;

/** `#rgb` or `#rrggbb`, lower case, as `#rrggbb`; undefined for anything else. */
export function normalizeHexColour(value: string): string | undefined {
  const match = value.trim().match(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i);
  if (!match?.[1]) return undefined;
  const hex = match[1].toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((digit) => digit + digit).join('') : hex}`;
}

function luminance(hex: string): number {
  const channels = [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16) / 255);
  const [r = 0, g = 0, b = 0] = channels.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The contrast ratio of two `#rrggbb` colours, from 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}
