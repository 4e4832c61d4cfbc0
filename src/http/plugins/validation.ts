import { Ajv, type Options } from "ajv";
import addFormats from "ajv-formats";
import type { FastifyInstance, FastifySchema } from "fastify";

/**
 * Two validators: query strings, params and headers arrive as text, so their values are coerced to the
 * schema's types ("10" -> 10); JSON bodies are taken as sent, so `{"name": 42}` or `{"rate": 0}` for a
 * nullable field is a 400 rather than silently becoming "42" or null.
 */
function makeAjv(coerceTypes: Options["coerceTypes"]): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

export function registerValidation(app: FastifyInstance): void {
  const coercing = makeAjv("array");
  const strict = makeAjv(false);
  app.setValidatorCompiler(({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) =>
    (httpPart === "body" ? strict : coercing).compile(schema as object),
  );
}
