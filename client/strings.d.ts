/** Made at build time by src/http/client-bundle.ts from src/i18n/locales/*.json. */
declare module "anteroom:strings" {
  /** The flat keys (`title`, `ahead_one`, `errors.invalid_token`, `widget.stay`...), joined by `|`. */
  export const KEYS: string;
  /** Per language, the values in the order of KEYS, joined by `|`; empty where the language has none. */
  export const TEXTS: Record<string, string>;
}

/** A CSS file, minified at build time, as text. */
declare module "*.css" {
  const css: string;
  export default css;
}
