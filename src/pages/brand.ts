import type { AppConfig } from '../config';

// What the configured brand (APP_NAME, ACCENT_COLOR) adds to the pages: a
// stylesheet with the accent colour and an icon. Both are served from this
// origin, as the pages' Content-Security-Policy requires (no inline style).

export type Brand = AppConfig['brand'];

/** The icon's colour when no ACCENT_COLOR is set: the stylesheet's own accent. */
const DEFAULT_ICON_COLOUR = '#1f5fbf';

/**
 * /assets/brand.css: the accent on buttons and, in the light theme, on links
 * and focus rings. In the dark theme links and focus rings keep the
 * stylesheet's light blue: a colour dark enough for white button text is too
 * dark to read on a dark page.
 */
export function brandStyle(brand: Brand): string {
  if (!brand.accentColour) return '';
  const accent = brand.accentColour;
  return [
    `:root{--accent:${accent};--accent-fg:#fff;--link:${accent};--focus:${accent}}`,
    `@media (prefers-color-scheme: dark){:root{--accent:${accent};--accent-fg:#fff;--link:#79b0ff;--focus:#79b0ff}}`,
    '',
  ].join('\n');
}

const escapeXml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** /favicon.svg (and /favicon.ico): the app's initial, white on the accent colour. */
export function faviconSvg(brand: Brand): string {
  const initial = [...brand.appName.trim()][0]?.toUpperCase() ?? 'A';
  const fill = brand.accentColour ?? DEFAULT_ICON_COLOUR;
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">',
    `<rect width="64" height="64" rx="14" fill="${fill}"/>`,
    `<text x="32" y="44" font-family="system-ui,sans-serif" font-size="36" font-weight="700" text-anchor="middle" fill="#fff">${escapeXml(initial)}</text>`,
    '</svg>',
  ].join('');
}
