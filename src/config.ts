// The configuration lives in src/config/ (schema, parsing, .env); this path stays importable.
export * from "./config/index.js";
