/**
 * The accent colour a queue sets (`#rrggbb`, validated by the admin API) and the text drawn on it: white or
 * near-black, whichever contrasts more (WCAG 2 relative luminance), so a button in any accent stays AA.
 */
export const DEFAULT_ACCENT = "#2454c5";
const LIGHT_TEXT = "#ffffff";
const DARK_TEXT = "#111418";

const HEX = /^#[0-9a-fA-F]{6}$/;

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function luminance(hex: string): number {
  const r = Number.parseInt(hex.slice(1, 3), 16);
  const g = Number.parseInt(hex.slice(3, 5), 16);
  const b = Number.parseInt(hex.slice(5, 7), 16);
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (high + 0.05) / (low + 0.05);
}

export interface Accent {
  accent: string;
  onAccent: string;
}

/** The accent (the default for anything but `#rrggbb`) and its text colour. */
export function accentOf(color: string | undefined): Accent {
  const accent = color !== undefined && HEX.test(color) ? color.toLowerCase() : DEFAULT_ACCENT;
  const onAccent = contrast(accent, LIGHT_TEXT) >= contrast(accent, DARK_TEXT) ? LIGHT_TEXT : DARK_TEXT;
  return { accent, onAccent };
}
