/** Made at build time by src/http/admin-bundle.ts from the `admin` section of src/i18n/locales/*.json. */
declare module "anteroom:admin-strings" {
  /** Per language, the flat keys of its `admin` section (`nav.live`, `login.title`...) and their text. */
  export const STRINGS: Record<string, Record<string, string>>;
}
